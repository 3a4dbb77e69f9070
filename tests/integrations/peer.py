"""A local Salla + Zid, on 127.0.0.1: the OAuth token endpoints, the merchant/profile lookups and
the paginated order lists, with the failures the connectors must survive (429 with Retry-After,
tokens that expire mid-sync, the platform down)."""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.integrations.payloads import (
    salla_order,
    zid_customer,
    zid_customers_page,
    zid_order,
    zid_orders_page,
)


@dataclass
class PeerState:
    orders: int = 130
    customers: int = 80
    access: set[str] = field(default_factory=lambda: {"sa-access-1", "zid-manager-1"})
    refreshes: int = 0
    calls: list[str] = field(default_factory=list)
    rate_limit_on_call: set[int] = field(default_factory=set)  # answer 429 to these order-list calls
    expire_tokens_on_call: set[int] = field(default_factory=set)  # tokens stop working at this call
    down_from_page: int | None = None
    list_calls: int = 0
    zid_counts_orders: bool = True  # whether the order list carries ``total_order_count``
    zid_queries: list[dict] = field(default_factory=list)


class Peer:
    def __init__(self) -> None:
        self.state = PeerState()
        self._salla = [salla_order(1000 + i, slug="in_progress", name="قيد التنفيذ") for i in range(10_000)]
        self._zid_template = zid_order()
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Peer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()

    def _json(self, body: object, status: int = 200, **headers) -> Response:
        return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)

    def _new_tokens(self, prefix: str) -> dict:
        self.state.refreshes += 1
        access = f"{prefix}-access-r{self.state.refreshes}"
        self.state.access.add(access)
        return access

    def wsgi(self, environ, start_response):
        request = Request(environ)
        self.state.calls.append(f"{request.method} {request.path}")
        return self.route(request)(environ, start_response)

    def route(self, request: Request) -> Response:
        path = request.path
        # --- Salla: https://docs.salla.dev/doc-421118 (tokens), https://docs.salla.dev/api-5394146 (orders)
        if path == "/oauth2/token":
            form = request.form
            if form.get("client_secret") != "salla-client-secret":
                return self._json({"error": "invalid_client"}, 401)
            access = self._new_tokens("sa")
            return self._json(
                {
                    "access_token": access,
                    "refresh_token": f"sa-refresh-r{self.state.refreshes}",
                    "expires_in": 1209600,
                    "scope": "offline_access",
                    "token_type": "bearer",
                }
            )
        if path == "/oauth2/user/info":
            return self._json(
                {
                    "status": 200,
                    "success": True,
                    "data": {"id": 1, "name": "Owner", "merchant": {"id": 1234509876, "name": "متجر سارة"}},
                }
            )
        if path == "/admin/v2/customers":
            return self._orders(request, "Bearer ", lambda page, size: self._salla_customers(page, size))
        if path == "/admin/v2/orders":
            return self._orders(request, "Bearer ", lambda page, size: self._salla_page(page, size))
        # --- Zid: https://docs.zid.sa/authorization (tokens), the manager orders list
        if path == "/oauth/token":
            if request.form.get("client_secret") != "zid-client-secret":
                return self._json({"message": "invalid client"}, 401)
            access = self._new_tokens("zid")
            return self._json(
                {
                    "access_token": access,
                    "authorization": "zid-app-auth",
                    "refresh_token": f"zid-refresh-r{self.state.refreshes}",
                    "expires_in": 31536000,
                }
            )
        if path == "/v1/managers/account/profile":
            return self._json({"user": {"store": {"id": 251073, "title": "Osama's Store"}}})
        if path in ("/v1/managers/store/orders", "/v1/managers/store/customers"):
            if request.headers.get("Authorization") != "Bearer zid-app-auth":
                return self._json({"message": "unauthenticated"}, 401)
            page_of = self._zid_page if path.endswith("/orders") else self._zid_customers
            self.state.zid_queries.append(dict(request.args))
            return self._orders(request, "X-Manager-Token", page_of)
        return self._json({"error": "not found"}, 404)

    def _orders(self, request: Request, auth: str, page_of) -> Response:
        state = self.state
        state.list_calls += 1
        if state.list_calls in state.rate_limit_on_call:
            return self._json({"error": "Too Many Requests"}, 429, **{"Retry-After": "1"})
        if state.list_calls in state.expire_tokens_on_call:
            state.access.clear()
        token = (
            request.headers.get("Authorization", "").removeprefix("Bearer ")
            if auth == "Bearer "
            else request.headers.get("X-Manager-Token", "")
        )
        if token not in state.access:
            return self._json({"error": "Unauthorized"}, 401)
        page = int(request.args.get("page", 1))
        if state.down_from_page is not None and page >= state.down_from_page:
            return self._json({"error": "Service Unavailable"}, 503)
        return self._json(page_of(page, int(request.args.get("per_page", 15))))

    def _salla_page(self, page: int, size: int) -> dict:
        return self._salla_list(
            page,
            size,
            self.state.orders,
            lambda i: self._salla[i % len(self._salla)] | {"id": 1000 + i, "reference_id": 70000 + i},
        )

    def _salla_customers(self, page: int, size: int) -> dict:
        return self._salla_list(
            page,
            size,
            self.state.customers,
            lambda i: {
                "id": i,
                "first_name": "عميل",
                "last_name": str(i),
                "mobile": 500000000 + i,
                "mobile_code": "+966",
                "email": f"shopper{i}@example.com",
            },
        )

    @staticmethod
    def _salla_list(page: int, size: int, total: int, row) -> dict:
        """Salla's list answer: ``data`` and ``pagination`` (https://docs.salla.dev/ › Pagination)."""
        rows = [row(i) for i in range((page - 1) * size, min(page * size, total))]
        pagination = {"count": len(rows), "total": total, "perPage": size, "currentPage": page}
        pagination |= {"totalPages": max(1, math.ceil(total / size)), "links": {}}
        return {"status": 200, "success": True, "data": rows, "pagination": pagination}

    def _zid_page(self, page: int, size: int) -> dict:
        total = self.state.orders
        rows = [
            self._zid_template
            | {
                "id": 500000 + i,
                "code": f"Z{500000 + i}",
                "customer": {
                    "name": f"C{i % 50}",
                    "email": f"c{i % 50}@example.com",
                    "mobile": f"05{i % 50:08d}",
                },
            }
            for i in range((page - 1) * size, min(page * size, total))
        ]
        return zid_orders_page(rows, total if self.state.zid_counts_orders else None)

    def _zid_customers(self, page: int, size: int) -> dict:
        """The store's customers: 0-39 are the orders' customers (same email, the phone written
        another way), 40-49 too but under another email (same phone), 50 on never ordered. Pages
        hold at most 50 (the docs state no limit); past the last page, an empty list."""
        size = min(size, 50)
        rows = [
            zid_customer(
                3000 + i,
                name=f"Customer {i}",
                email=f"c{i}@example.com" if i < 40 else f"other{i}@example.com",
                mobile=f"9665{i:08d}",
            )
            for i in range((page - 1) * size, min(page * size, self.state.customers))
        ]
        return zid_customers_page(rows)
