"""Records, labels and statistics over HTTP, and the history page that shows them.

    GET  /api/records?labelled=true|false&wrong=true|false&limit=N&before=ID
    GET  /api/records/ID
    POST /api/records/ID/label   {"label": "7"}
    GET  /api/stats
    GET  /history

A listing is newest first and paged: at most `MAX_LIST` records, and `next`
is the URL of the page before the last one shown. A label is text: one of the
model's classes for a digit record, a string of them for a number record;
labelling again replaces the label and its time (a record is never
duplicated). All of it is behind `auth.Guard` when the server needs a token.
"""

import base64
import re
from urllib.parse import urlencode

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import BadRequest

from ..store.records import MAX_LIST
from ..store.schema import LABEL_LENGTH
from .answers import json_error

MAX_RECORD_ID = 2**63 - 1  # larger ids cannot exist (a BIGINT), so they are a 404
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")


def record_json(record):
    """A stored record as the API shows it: times in ISO 8601 UTC, images as base64 PNG."""
    shown = dict(record)
    for key in ("created_at", "labelled_at"):
        if shown[key] is not None:
            shown[key] = shown[key].isoformat().replace("+00:00", "Z")
    shown["images"] = [{"png": base64.b64encode(image["png"]).decode("ascii"),
                        "box": image["box"]} for image in record["images"]]
    return shown


def flag(name):
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if value.lower() in TRUE + FALSE:
        return value.lower() in TRUE
    raise BadRequest(f"{name}={value[:40]!r} is not a yes/no value; use {name}=true or "
                     f"{name}=false")


def whole_number(name, default=None, low=1, high=MAX_RECORD_ID):
    value = request.args.get(name)
    if value is None or value == "":
        return default
    if not re.fullmatch(r"[0-9]{1,19}", value) or not low <= int(value) <= high:
        raise BadRequest(f"{name}={value[:40]!r} is not a whole number from {low} to {high}")
    return int(value)


def label_rule(classes):
    """(kind, label) -> an error message, or None when the label fits the kind."""
    digits = "".join(re.escape(name) for name in classes if len(name) == 1)

    def problem(kind, label):
        if not isinstance(label, str):
            return "the label must be a JSON string, e.g. {\"label\": \"7\"}"
        if kind == "digit" and label not in classes:
            return (f"a digit record's label is one of {', '.join(classes)}; "
                    f"got {label[:LABEL_LENGTH]!r}")
        if kind == "number" and not re.fullmatch(f"[{digits}]{{1,{LABEL_LENGTH}}}", label):
            return (f"a number record's label is 1 to {LABEL_LENGTH} digits, e.g. \"4071\"; "
                    f"got {label[:LABEL_LENGTH]!r}")
        return None
    return problem


def blueprint(store, guard, classes, model_version, render_page):
    """The routes above, for `store`, guarded by `guard`; `model_version()` is the version
    answering now (for the statistics); `render_page(name)` renders HTML."""
    routes = Blueprint("records", __name__)
    problem = label_rule(list(classes))
    protect = guard.protect(lambda: json_error(401, "this endpoint needs the server's token: "
                                                    "send 'Authorization: Bearer TOKEN'"))
    protect_page = guard.protect(lambda: (render_page("signin.html"), 401))

    @routes.get("/api/records")
    @protect
    def list_records():
        limit = whole_number("limit", default=20, high=10**6)
        records = store.list(labelled=flag("labelled"), wrong=flag("wrong"),
                             limit=min(limit, MAX_LIST), before=whole_number("before"))
        page = {"records": [record_json(record) for record in records],
                "limit": min(limit, MAX_LIST), "next": None}
        if len(records) == page["limit"]:
            query = {key: value for key, value in request.args.items() if key != "before"}
            query["before"] = records[-1]["id"]
            page["next"] = "/api/records?" + urlencode(query)
        return jsonify(page)

    @routes.get("/api/records/<int:record_id>")
    @protect
    def get_record(record_id):
        record = store.get(record_id) if record_id <= MAX_RECORD_ID else None
        if record is None:
            return json_error(404, f"no record {record_id}")
        return jsonify(record_json(record))

    @routes.post("/api/records/<int:record_id>/label")
    @protect
    def label_record(record_id):
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or "label" not in body:
            return json_error(400, "send the label as JSON: {\"label\": \"7\"} with "
                                   "Content-Type: application/json", "bad_label")
        kind = store.kind_of(record_id) if record_id <= MAX_RECORD_ID else None
        if kind is None:
            return json_error(404, f"no record {record_id}")
        reason = problem(kind, body["label"])
        if reason:
            return json_error(400, reason, "bad_label")
        record = store.label(record_id, body["label"])
        if record is None:  # deleted in between
            return json_error(404, f"no record {record_id}")
        return jsonify(record_json(record))

    @routes.get("/api/stats")
    @protect
    def stats():
        return jsonify(store.stats(model_version()))

    @routes.get("/history")
    @protect_page
    def history():
        return render_page("history.html")

    return routes
