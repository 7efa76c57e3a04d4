"""Walk the permit journey by hand against a running ``make run``, printing each
HTTP step: the carrier applies, the officers of 河北, 山东 and 江苏 decide, the
permit is issued, the carrier sees 已发证.

``python scripts/walkthrough.py`` (or ``make demo``) in a second terminal.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack import Stack  # noqa: E402
from tests.e2e import journey as j  # noqa: E402
from tests.e2e.conftest import Api  # noqa: E402


class LoggingApi(Api):
    """An Api that prints every call it makes and the essentials of the answer."""

    def __init__(self, base: str, token: str, who: str) -> None:
        super().__init__(base, token)
        self.who = who

    def call(self, method: str, path: str, expect: int = 200, **kw: object) -> dict:
        out = super().call(method, path, expect, **kw)  # type: ignore[arg-type]
        shown = {k: out[k] for k in ("name", "number", "state", "stateLabel", "etag") if k in out}
        print(f"  {self.who:<16} {method:<5} {path:<58} -> {json.dumps(shown, ensure_ascii=False)}")
        return out


def main() -> int:
    stack = Stack()
    try:
        people = {p: LoggingApi(stack.gateway_url, stack.sign_in(p)["accessToken"], p)
                  for p in ("carrier", "hebei-accept", "shandong-review", "jiangsu-review")}
    except Exception as e:  # noqa: BLE001 - tell the user what to do
        print(f"cannot sign in at {stack.gateway_url} ({e}); is `make run` running?", file=sys.stderr)
        return 1
    carrier = people["carrier"]
    print("1. 申请人填报：我要申请 -> 六步 -> 上传材料")
    app = j.fill_draft(carrier, start_in_days=30, days=3)
    print("2. 提交申请")
    j.submit(carrier, app)
    print("3. 起运地（河北）受理")
    case = j.case_of(people["hebei-accept"], app["name"])
    case = j.accept(people["hebei-accept"], case)
    print("4. 途经各省并联审批")
    j.approve(people["hebei-accept"], case, j.ORIGIN)
    j.approve(people["shandong-review"], case, j.VIA)
    j.approve(people["jiangsu-review"], case, j.DESTINATION)
    print("5. 起运地发证")
    permit = j.issue(people["hebei-accept"], case)
    print("6. 申请人查看进度")
    done = j.wait_for(lambda: (a := carrier.get(f"/v1/{app['name']}"))["state"] == "STATE_ISSUED" and a,
                      "已发证")
    for p in done["progress"]:
        print(f"     {p['province']}  {p.get('decisionLabel', p['decision'])}")
    print(f"\n申请 {done['number']}：{done['stateLabel']}，许可证号 {permit['number']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
