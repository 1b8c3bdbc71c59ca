"""The local AWS: moto behind a WSGI layer that makes it stricter and observable.

Layers, in the order a request meets them (see gateway.py): its account
(accounts.py: several accounts, AssumeRole into them), faults (faults.py), request-model validation (validate.py, with query.py,
patterns.py, models.py) and the rules AWS states in prose (aws_rules.py),
AWS-like answers where moto differs (aws_answers.py), then moto. Every AWS request is counted
(stats.py) and optionally logged (oplog.py).
"""
