"""The legacy sync (PC-3): one command that reads the PC system's export (JSON, CSV
or XLSX) and brings every owner service up to it through one internal call each:

- identity ``SyncLegacyAccounts``: accounts and their enterprise information;
- application ``SyncLegacyRecords``: vehicles, agents and past applications;
- approval ``ImportLegacyPermits``: the permits of issued (已发证) applications.

Idempotent by the legacy ids; see ``python -m permit_sync --help`` and
``readers`` for the file layouts. A client of those three services, not part of
any: it lives beside ``permit_application`` only so that the application image
carries it (``deploy/k8s/jobs/legacy-sync.yaml`` runs it in the cluster).
"""
