"""Reads of the CSV imports. Each takes the contract it reads for."""

from django.shortcuts import get_object_or_404

from accounts.models import Contract, ImportJob


def access_import_job(contract: Contract, pk: int) -> ImportJob:
    """One CSV import of this contract; 404 alike for a missing id and another contract's."""
    return get_object_or_404(ImportJob.objects.for_contract(contract), pk=pk)


def import_job_list(contract: Contract, *, limit: int = 5) -> list[ImportJob]:
    """The contract's latest CSV imports, newest first (the file's content left unread)."""
    return list(ImportJob.objects.for_contract(contract).defer("content")[:limit])
