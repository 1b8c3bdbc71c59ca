"""GetMetricData paged as AWS pages it; moto 5.2.5 ignores MaxDatapoints and
NextToken and answers everything at once.

AWS returns at most MaxDatapoints datapoints (default 100,800) per answer,
counted over all the queries of the request, with a NextToken for the rest;
a query cut short says StatusCode PartialData (CloudWatch API reference,
GetMetricData). moto's full answer is cut into that page here, in the
request's protocol (Query/XML from the Rust SDK, JSON from boto3). The token
is the offset of the page's first datapoint; a token that is not one of ours
is answered InvalidNextToken, as AWS answers a stale or foreign one.
"""

import json
import xml.etree.ElementTree as ET

from . import errors

DEFAULT_MAX = 100_800
_TOKEN_PREFIX = "localaws-page-"


def answer(req, environ, moto):
    params = _params(req)
    try:
        offset = _offset(params.get("NextToken"))
        limit = int(params.get("MaxDatapoints") or DEFAULT_MAX)
    except ValueError as e:
        return errors.answer(req.protocol, 400, "InvalidNextToken", str(e), _json_type(environ))
    status, headers, body = moto(environ)
    if not status.startswith("200") or limit <= 0:
        return status, headers, body
    if req.protocol == "query":
        body = _page_xml(body, offset, limit)
    else:
        body = _page_json(body, offset, limit)
    headers = [(k, str(len(body)) if k.lower() == "content-length" else v) for k, v in headers]
    return status, headers, body


def _json_type(environ):
    return environ.get("CONTENT_TYPE", "").split(";")[0] or "application/x-amz-json-1.0"


def _params(req):
    if req.protocol == "query":
        return dict(req.form_params())
    return req.json_params() or {}


def _offset(token):
    if not token:
        return 0
    if token.startswith(_TOKEN_PREFIX) and token[len(_TOKEN_PREFIX):].isdigit():
        return int(token[len(_TOKEN_PREFIX):])
    raise ValueError(f"The service cannot read NextToken {token!r}.")


def _cut(lengths, offset, limit):
    """(start, stop) per result for the page [offset, offset + limit) of the
    datapoints of all results in order, and the next token or None."""
    spans, seen = [], 0
    for n in lengths:
        start = min(max(offset - seen, 0), n)
        stop = min(max(offset + limit - seen, 0), n)
        spans.append((start, stop))
        seen += n
    more = offset + limit < seen
    return spans, (f"{_TOKEN_PREFIX}{offset + limit}" if more else None)


def _page_json(body, offset, limit):
    doc = json.loads(body)
    results = doc.get("MetricDataResults", [])
    spans, token = _cut([len(r.get("Values", [])) for r in results], offset, limit)
    for result, (start, stop) in zip(results, spans):
        n = len(result.get("Values", []))
        result["Timestamps"] = result.get("Timestamps", [])[start:stop]
        result["Values"] = result.get("Values", [])[start:stop]
        if stop < n:
            result["StatusCode"] = "PartialData"
    if token:
        doc["NextToken"] = token
    return json.dumps(doc).encode()


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _child(parent, name):
    return next((c for c in parent if _local(c.tag) == name), None)


def _page_xml(body, offset, limit):
    root = ET.fromstring(body)
    ns = root.tag[:-len(_local(root.tag))]
    ET.register_namespace("", ns.strip("{}"))
    result_el = _child(root, "GetMetricDataResult")
    results_el = _child(result_el, "MetricDataResults") if result_el is not None else None
    members = list(results_el) if results_el is not None else []
    lists = [(_child(m, "Timestamps"), _child(m, "Values")) for m in members]
    lengths = [len(v) if v is not None else 0 for _, v in lists]
    spans, token = _cut(lengths, offset, limit)
    for member, (times, values), (start, stop), n in zip(members, lists, spans, lengths):
        for el in (times, values):
            if el is not None:
                for i, item in reversed(list(enumerate(list(el)))):
                    if not start <= i < stop:
                        el.remove(item)
        if stop < n:
            _child(member, "StatusCode").text = "PartialData"
    if token:
        ET.SubElement(result_el, ns + "NextToken").text = token
    return ET.tostring(root, encoding="utf-8", xml_declaration=False)
