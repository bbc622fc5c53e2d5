"""Domain exceptions of device authentication keys. Views turn them into
messages; the limit of keys per contract is accounts.exceptions.LimitReached."""


class InvalidTransition(Exception):
    """The status rules (devicekeys.rules) refuse this action on this key, or by this caller."""

    def __init__(self, action, state, by):
        self.action, self.state, self.by = action, state, by
        super().__init__(f"{by} may not {action} a key in state {state}")
