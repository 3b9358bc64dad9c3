"""A client that knows the API only through its OpenAPI document (operation ids, paths, schemas)."""

from __future__ import annotations


class OpenApiClient:
    def __init__(self, http, token: str):
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}
        self.doc = http.get("/api/v1/openapi.json").json
        self.ops = {}
        for path, methods in self.doc["paths"].items():
            for method, op in methods.items():
                self.ops[op["operationId"]] = (method.upper(), path, op)

    def schema(self, operation_id: str) -> dict:
        return self.ops[operation_id][2]["requestBody"]["content"]["application/json"]["schema"]

    def call(self, operation_id: str, body: dict | None = None, **path_params):
        method, path, _ = self.ops[operation_id]
        for name, value in path_params.items():
            path = path.replace("{" + name + "}", str(value))
        if method == "GET":
            return self.http.get(path, headers=self.headers, query_string=body or {})
        return self.http.open(path, method=method, headers=self.headers, json=body)
