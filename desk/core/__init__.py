"""Pure domain: money, units, ledger rules, text and settings. Standard library only."""
