"""The ledger: accounts, categories and transactions (with receipts)."""
