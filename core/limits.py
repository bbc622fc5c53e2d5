"""The per-contract limits of the guide (at most 999 user IDs, at most 999 device
keys), each with its one message.

A `Limit` holds its maximum and the two sentences the console says about it: the
rule (「…は1契約につき999個まで作成できます。」) and what to do about it. Services
check it under the contract's lock (`check`), screens show `message` when the
contract is full and `rule` beside a form, and the CSV import adds its own
numbers after `rule`: one wording per limit, wherever it is shown.
"""

from dataclasses import dataclass

from django.utils.functional import Promise, lazy
from django.utils.text import format_lazy

from core.exceptions import LimitReached


@dataclass(frozen=True)
class Limit:
    maximum: int
    rule_text: Promise  # with %(limit)d
    remedy: Promise

    @property
    def rule(self) -> str:
        """「利用者IDは1契約につき999個まで作成できます。」 in the active language."""
        return _rule(self.rule_text, self.maximum)

    @property
    def message(self) -> str:
        """The rule and what to do: what the console says when the contract is full."""
        return format_lazy("{}{}", self.rule, self.remedy)

    def room(self, count: int) -> int:
        """How many more the contract may hold when it holds `count`."""
        return max(self.maximum - count, 0)

    def check(self, count: int, adding: int = 1) -> None:
        """LimitReached (with `message`) when `count` + `adding` is over the maximum."""
        if count + adding > self.maximum:
            raise LimitReached(str(self.message))


def _format_rule(text, maximum: int) -> str:
    return str(text) % {"limit": maximum}


_rule = lazy(_format_rule, str)
