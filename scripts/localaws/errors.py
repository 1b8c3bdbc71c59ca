"""AWS-shaped error answers for the JSON and Query protocols.

The Rust SDK classifies errors by these shapes (retries on throttling and 5xx),
so they must look like AWS's, not like moto's or werkzeug's.
"""

import json
import uuid
from xml.sax.saxutils import escape


def answer(protocol: str, status: int, code: str, message: str, json_type="application/x-amz-json-1.1"):
    """(status line, headers, body) for an error in the request's protocol.

    json_type: the JSON protocol's version as the request named it
    (CloudWatch over JSON is 1.0, Application Auto Scaling and SageMaker 1.1).
    """
    request_id = str(uuid.uuid4())
    reason = {400: "Bad Request", 403: "Forbidden", 500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Error")
    if protocol == "query":
        kind = "Sender" if status < 500 else "Receiver"
        body = (
            '<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">'
            f"<Error><Type>{kind}</Type><Code>{escape(code)}</Code>"
            f"<Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        content_type = "text/xml"
    else:
        body = json.dumps({"__type": code, "message": message}).encode()
        content_type = json_type
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("x-amzn-RequestId", request_id),
    ]
    if protocol != "query":
        headers.append(("x-amzn-ErrorType", code))
    return f"{status} {reason}", headers, body
