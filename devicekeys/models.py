# Device authentication keys (端末認証キー) arrive with their own issue; they will
# subclass accounts.scoping.ContractScopedModel like every contract-owned row.
