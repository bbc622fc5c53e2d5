"""The one scoping rule of the console: contract-owned rows are read through
`for_contract(contract)`.

Both apps import this module. A queryset asked for the rows of no contract
fails closed (raises) instead of returning everyone's rows, and a view gets its
contract only from the signed-in administrator (`accounts.guards`), never from
the URL, a form field or the query string.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ContractScopedQuerySet(models.QuerySet):
    def for_contract(self, contract):
        if contract is None or contract.pk is None:
            raise ValueError("for_contract() needs a saved contract; refusing an unscoped query.")
        return self.filter(contract=contract)


class ContractScopedModel(models.Model):
    """Base of every model a contract owns (device keys, import jobs, ...)."""

    contract = models.ForeignKey(
        "accounts.Contract", verbose_name=_("契約"), on_delete=models.CASCADE, related_name="+"
    )

    objects = ContractScopedQuerySet.as_manager()

    class Meta:
        abstract = True
