"""policylang: medical-insurance reimbursement policy as code."""

__version__ = "0.1.0"
