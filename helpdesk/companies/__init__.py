"""Companies (organisations): customers grouped by email domain or by hand, for B2B shops."""
