"""What each message of the shared real-world corpus (``../shared/email-corpus``) should become.

Our own expectations, written from what the source projects' test suites assert about these
messages (talon: the reply of each standard reply is "Hello"; email-reply-parser: the reply
fragments; django-helpdesk: ticket title and description; zammad: subject, body and attachments
in its ``.yml`` per mail). The mail itself stays in the shared folder and is never copied here.

Keys, each one check kind of the corpus test:
``subject``      the new ticket's subject (reply/forward prefixes removed);
``sender``       (display name, address) of the customer;
``new``          snippets the agent must see (the visible text contains each);
``exact``        the visible text, exactly;
``hidden``       snippets of quoted history or signatures the visible text must not contain;
``attachments``  file names kept on the message, in order;
``clean``        True: decoded without replacement characters;
``kept``         snippets the stored text or HTML must keep (besides ``new`` and ``hidden``);
``outcome``      the ingest action when it is not a ticket (``failed``).
Every message is also checked to ingest without failing and to keep its whole body.
"""

EXPECTATIONS: dict[str, dict] = {
    # django-helpdesk: tests/test_get_email.py asserts title and description.
    "django-helpdesk/all-special-chars.eml": dict(
        subject="Testovácí email", new=["íářčšáíéřášč"], clean=True
    ),
    "django-helpdesk/blank-body-with-attachment.eml": dict(
        subject="Attachment without body - and a " + "l" + "o" * 179 + "ng subject", attachments=["baf"]
    ),
    "django-helpdesk/forwarded-message.eml": dict(
        subject="Test with original message from GitHub",
        exact="This is email body",
        hidden=["Hello there!", "-----Original Message-----"],
    ),
    "django-helpdesk/pgp.eml": dict(
        subject="example email that crashes django-helpdesk get_email",
        new=["hi, thanks for looking into this :)"],
        attachments=["signature.asc"],
    ),
    "django-helpdesk/quoted_printable.eml": dict(
        subject="Český test", exact="Tohle je test českých písmen odeslaných z gmailu.", clean=True
    ),
    "django-helpdesk/utf-nondecodable.eml": dict(
        subject="Cyklozaměstnavatel - změna vyhodnocení",
        new=["Forwarded Message", "podle domluvy bych Tě poprosila"],
        kept=["prosazuje lepší"],  # only in the HTML part, which is kept beside the text
    ),
    # email-reply-parser: test/test_email_reply_parser.py asserts the fragments and the reply.
    "email-reply-parser/email_1_2.eml": dict(
        subject="Clearing a Riak bucket",
        new=["Hi,", "You can list the keys for the bucket and call delete for each."],
        hidden=["What is the best way to clear a Riak bucket", "Abhishek Kona wrote:"],
    ),
    "email-reply-parser/email_1_3.eml": dict(
        subject="Deleting all keys in a Riak bucket",
        new=["Oh thanks.", "Having the function would be great."],
        hidden=["Russell Brown wrote:", "What is the best way"],
    ),
    "email-reply-parser/email_1_6.eml": dict(
        subject="Rendering issue 2278",
        new=["I get proper rendering as well."],
        hidden=["Was this caching related or fixed already?", "Corey Donohoe", "wrote:"],
    ),
    "email-reply-parser/email_1_8.eml": dict(
        subject="Inline reply test",
        new=["I will reply under this one", "and under this."],
        hidden=["After you reply to this", "> okay?"],
    ),
    "email-reply-parser/email_2_1.eml": dict(
        subject="Google Apps Sync was updated!",
        exact="Outlook with a reply",
        hidden=["Dear Google Apps Sync user", "----------"],
    ),
    "email-reply-parser/email_2_2.eml": dict(
        subject="[contact:106] John Greene",
        exact="Outlook with a reply directly above line",
        hidden=["A new comment has been added", "_____"],
    ),
    "email-reply-parser/email_2_3.eml": dict(
        subject="You have a new message!",
        exact="Outlook with a reply above headers using unusual format",
        hidden=["Respond to Kim by replying directly"],
    ),
    "email-reply-parser/email_gmail.eml": dict(
        subject="Show the version number in the footer",
        exact="This is a test for inbox replying to a github message.",
        hidden=["notifications@github.com", "personally too lazy"],
    ),
    "email-reply-parser/email_headers_no_delimiter.eml": dict(
        subject="New Issue", exact="And another reply!", hidden=["A reply", "This is a message."]
    ),
    "email-reply-parser/email_one_is_not_on.eml": dict(
        subject="A better query for lastLocation",
        new=["Thank, this is really helpful.", "Locally (on development), when I run..."],
        hidden=["On Oct 1, 2012, at 11:55 PM, Dave Tapley wrote:", "The good news is"],
    ),
    # mail-parser: tests/test_mail_parser.py asserts subjects, senders, bodies and attachments.
    "mail-parser/mail_malformed_3.eml": dict(subject="Ahorre Dinero en su Recibo de Luz"),
    "mail-parser/mail_test_12.eml": dict(
        subject="代开各地增值税发票", new=["我公司可代开各类增值税发票"], clean=True
    ),
    "mail-parser/mail_test_14.eml": dict(subject="Test", new=["Plaintext here."], attachments=["part-2.png"]),
    "mail-parser/mail_test_16.eml": dict(
        subject="Test spam mail (GTUBE)",
        new=["XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"],
    ),
    "mail-parser/mail_test_17.eml": dict(subject="Transferencia Interbancaria Banca en Línea"),
    "mail-parser/mail_test_18.eml": dict(
        subject="Test for Comma and Name Bugs",
        sender=("LastßlName, FirstName", "comma.name@example.com"),
        new=["It validates two specific fixes:"],
    ),
    "mail-parser/mail_test_3.eml": dict(
        subject="Hi there", new=["I am sending you the bills of the goods"], attachments=["message.txt"]
    ),
    "mail-parser/mail_test_6.eml": dict(
        subject="Быстрее вкладывайте в золото!",
        new=["Профессионалы.ru"],
        attachments=["part-2.png", "part-3.png", "part-4.png", "part-5.png"],
    ),
    # talon: tests/text_quotations_test.py strips each standard reply to "Hello".
    "talon/android.eml": dict(subject="Test", exact="Hello", hidden=["написал:"]),
    "talon/aol.eml": dict(subject="Test", exact="Hello", hidden=["-----Original Message-----"]),
    "talon/apple_mail.eml": dict(subject="Test", exact="Hello", hidden=["bob wrote:"]),
    "talon/apple_mail_2.eml": dict(subject="Hello there", exact="Hello", hidden=["Hi there!"]),
    "talon/comcast.eml": dict(subject="Test", exact="Hello", hidden=["----- Original Message -----"]),
    "talon/gmail.eml": dict(subject="Test", exact="Hello", hidden=["Megan One <xxx@gmail.com> wrote:"]),
    "talon/hotmail.eml": dict(subject="Test", exact="Hello", hidden=["Subject: Test"]),
    "talon/iphone.eml": dict(subject="Test", exact="Hello", hidden=["Sent from my iPhone", "wrote:"]),
    "talon/outlook.eml": dict(subject="Test", exact="Hello", hidden=["The manager's comment"]),
    "talon/sparrow.eml": dict(subject="Test", exact="Hello", hidden=["Sent with Sparrow"]),
    "talon/thunderbird.eml": dict(subject="Test", exact="Hello", hidden=["Megan One wrote:"]),
    "talon/yahoo.eml": dict(subject="Test", exact="Hello", hidden=["----- Original Message -----"]),
    "talon/reply-quotations-share-block.eml": dict(
        subject="You've got a new booking inquiry!",
        new=["Hi Katharine.  Sounds great.", "Joe XXX"],
        hidden=["From: xxx@example.com", "New Booking Inquiry"],
    ),
    # zammad: test/data/mail/mailNNN.yml gives subject, body and attachments.
    "zammad/mail001.eml": dict(
        subject="CI Daten für PublicView", new=["wie besprochen hier noch die Daten für die Intranetseite"]
    ),
    "zammad/mail003.eml": dict(
        subject="Ticket Templates", new=["ich möchte mich gern für den Beta-Test für die Ticket Templates"]
    ),
    "zammad/mail005.eml": dict(
        subject="XXXX Betatest Ticket Templates [Ticket#11162]",
        new=["John und ich könnten leider nur am Freitag", "Grüße aus Bonn"],
        hidden=["Wir würden gerne die Präsentation", "schrieb Martin Edenhofer"],
    ),
    "zammad/mail006.eml": dict(
        subject='utf8: 使って / ISO-8859-1: Priorität" / cp-1251: Сергей Углицких',
        sender=("Hans BÄKO Schönland", "me@bogen.net"),
        new=["this is a test", "Test5:="],
    ),
    "zammad/mail007.eml": dict(
        subject="Installation [Ticket#11392]",
        new=["Jetzt muss ich dir noch kurzfristig absagen für morgen."],
        hidden=["anbei wie gestern telefonisch besprochen"],
    ),
    "zammad/mail012.eml": dict(
        subject="Agenda [Ticket#11995]",
        new=["möglicherweise haben wir für unsere morgige Veranstaltung ein Problem"],
        hidden=["Ursprüngliche Nachricht", "Sehr geehrte Frau Smith"],
        attachments=["image002.png"],
    ),
    "zammad/mail013.eml": dict(subject="Probleme ADB / Anlegen von Tickets [Ticket#111079]", new=["JA"]),
    # A bounce for a message that is not ours: recorded as failed, by our policy, raw bytes kept.
    "zammad/mail018.eml": dict(outcome="failed"),
    "zammad/mail024.eml": dict(
        subject="Regelsets im Test-Status gefunden: 1", attachments=["rulesets-report.csv"]
    ),
    "zammad/mail036.eml": dict(subject="Zugangsdaten", new=["Um noch vertrauter zu werden"]),
    "zammad/mail038.eml": dict(
        subject="test 1234 äöü sig test without attachment",
        new=["test 1234 äöü sig test without attachment"],
        attachments=["signature.asc"],
    ),
    "zammad/mail072.eml": dict(
        subject="Réclamation commande n° 018255977840",
        new=["Je vous contacte suite à ma commande du 14 août 2018"],
    ),
    "zammad/mail081.eml": dict(
        subject="UTF-8-Attachment-Test",
        sender=("Martin von Wittich", "redacted@redacted"),
        attachments=["Erklärung.txt"],
    ),
    "zammad/mail086.eml": dict(subject="who knows", attachments=["test.pdf"]),
    "zammad/mail091.eml": dict(subject="メルマガ解除", new=["このアドレスへのメルマガを解除してください。"]),
}
