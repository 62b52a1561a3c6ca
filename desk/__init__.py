"""desk: a front-desk scheduler and prepaid-treatment ledger for small clinics."""

__version__ = "0.1.0"
