"""Request-model validation (not yet: every request passes)."""


def check(req):
    return None
