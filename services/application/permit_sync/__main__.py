"""`python -m permit_sync FILE [FILE ...]`: sync the PC system's export (JSON, CSV or
XLSX) into identity, application and approval (PC-3); prints the operator's report.

Several CSV files may make up one export (accounts.csv vehicles.csv agents.csv
applications.csv). The services are found at IDENTITY_SERVICE_ADDR,
APPLICATION_SERVICE_ADDR and APPROVAL_SERVICE_ADDR (default: the `make run`
ports). Exit status: 0 done (even with refused rows: see the report), 1 the
export could not be read or a service could not be reached, 3 with --strict when
a record was refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import grpc

from permit_sync import readers, sync


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m permit_sync", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", help="the export: one .json, .csv or .xlsx file, or several .csv files")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--report", help="also write the JSON report to this file")
    p.add_argument("--strict", action="store_true", help="exit 3 when a record was refused")
    p.add_argument("--partial", action="store_true",
                   help="the export holds only some accounts: flag only what is missing within them")
    p.add_argument("--identity", help="identity address (host:port)")
    p.add_argument("--application", help="application address (host:port)")
    p.add_argument("--approval", help="approval address (host:port)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per service call")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        export = readers.read_many(args.files)
    except readers.ExportUnreadable as e:
        print(f"error: EXPORT_UNREADABLE: {e}", file=sys.stderr)
        return 1
    if args.partial:
        export.document["_partial"] = True
    callers, close = sync.grpc_callers(
        sync.addresses(identity=args.identity, application=args.application, approval=args.approval),
        timeout=args.timeout)
    try:
        report = sync.run(export, callers)
    except grpc.RpcError as e:
        print(f"error: SERVICE_CALL_FAILED: {sync.describe_rpc_error(e)}", file=sys.stderr)
        return 1
    finally:
        close()
    data = report.as_dict()
    if args.report:
        with open(args.report, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=2)
    print(json.dumps(data, ensure_ascii=False, indent=2) if args.json else report.text())
    if args.strict and report.total("REFUSED"):
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
