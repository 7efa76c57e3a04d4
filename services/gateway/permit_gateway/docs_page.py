"""The API reference as one self-contained HTML page (``/docs``): every operation of the
OpenAPI document with its Chinese summary, linking the machine-readable documents."""

from __future__ import annotations

from html import escape
from typing import Any

_METHODS = ("get", "post", "patch", "put", "delete")
_STYLE = ("body{font-family:sans-serif;margin:2em;max-width:70em}"
          "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3em .5em;"
          "text-align:left;vertical-align:top}code{white-space:nowrap}")


def render(doc: dict[str, Any], documents: dict[str, str]) -> str:
    """``documents``: audience label -> URL of its OpenAPI document."""
    info = doc.get("info", {})
    rows = []
    for path, item in doc.get("paths", {}).items():
        for method in _METHODS:
            op = item.get(method)
            if op is None:
                continue
            summary = op.get("summary") or op.get("description", "").split("\n", 1)[0]
            tags = "、".join(op.get("tags", []))
            rows.append(f"<tr><td><code>{method.upper()} {escape(path)}</code></td>"
                        f"<td>{escape(tags)}</td><td>{escape(summary)}</td></tr>")
    links = "".join(f'<li><a href="{escape(url)}">{escape(label)}</a></li>' for label, url in documents.items())
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>{escape(info.get('title', 'API'))}</title><style>{_STYLE}</style></head><body>"
            f"<h1>{escape(info.get('title', 'API'))}</h1>"
            f"<p>{escape(str(info.get('description', '')).split(chr(10), 1)[0])}</p>"
            f"<p>OpenAPI 文档（含请求、响应字段说明与示例）：</p><ul>{links}</ul>"
            f"<table><thead><tr><th>接口</th><th>分类</th><th>说明</th></tr></thead><tbody>"
            f"{''.join(rows)}</tbody></table></body></html>")
