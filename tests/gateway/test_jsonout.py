"""Gateway: the fast protobuf -> JSON printer writes exactly what protobuf's own
printer writes, for every message of every API (random values, every field kind)."""

from __future__ import annotations

import importlib
import pkgutil
import random

import pytest
from google.protobuf import descriptor, json_format
from google.protobuf.message import Message

import permit
from permit_gateway.jsonout import message_to_dict

FD = descriptor.FieldDescriptor


def _all_messages() -> list[type[Message]]:
    out: dict[str, type[Message]] = {}
    for mod in pkgutil.walk_packages(permit.__path__, "permit."):
        if not mod.name.endswith("_pb2"):
            continue
        m = importlib.import_module(mod.name)
        for name in dir(m):
            cls = getattr(m, name)
            if isinstance(cls, type) and issubclass(cls, Message) and hasattr(cls, "DESCRIPTOR"):
                out[cls.DESCRIPTOR.full_name] = cls
    return [out[k] for k in sorted(out)]


MESSAGES = _all_messages()


def _scalar(f: descriptor.FieldDescriptor, rng: random.Random) -> object:
    ct = f.cpp_type
    if ct == FD.CPPTYPE_ENUM:
        return rng.choice([v.number for v in f.enum_type.values])
    if ct == FD.CPPTYPE_STRING:
        return rng.randbytes(rng.randint(0, 5)) if f.type == FD.TYPE_BYTES else rng.choice(["", "冀A12345", "a\"b\\c", "x"])
    if ct == FD.CPPTYPE_BOOL:
        return rng.random() < 0.5
    if ct in (FD.CPPTYPE_INT64,):
        return rng.choice([0, -1, 2**62, 30000])
    if ct in (FD.CPPTYPE_UINT64,):
        return rng.choice([0, 2**63, 7])
    if ct == FD.CPPTYPE_INT32:
        return rng.choice([0, -5, 2**31 - 1])
    if ct == FD.CPPTYPE_UINT32:
        return rng.choice([0, 2**32 - 1])
    return rng.choice([0.0, 1.5, -2.25, float("inf"), float("nan"), 1e-7])


def _fill(msg: Message, rng: random.Random, depth: int) -> None:
    name = msg.DESCRIPTOR.full_name
    if name == "google.protobuf.Timestamp":
        msg.FromSeconds(rng.randint(0, 2_000_000_000))  # type: ignore[attr-defined]
        msg.nanos = rng.choice([0, 5000, 123_000_000])  # type: ignore[attr-defined]
        return
    if name == "google.protobuf.Duration":
        msg.FromSeconds(rng.randint(0, 10_000))  # type: ignore[attr-defined]
        return
    if name == "google.protobuf.Any":
        # An Any prints only with a type the pool knows (an event envelope packs a real event).
        from google.protobuf import timestamp_pb2
        ts = timestamp_pb2.Timestamp()
        ts.FromSeconds(rng.randint(0, 2_000_000_000))
        msg.Pack(ts)  # type: ignore[attr-defined]
        return
    if name == "google.protobuf.FieldMask":
        msg.paths.extend(rng.sample(["cargo", "vehicles", "passage_route"], 2))  # type: ignore[attr-defined]
        return
    for f in msg.DESCRIPTOR.fields:
        if rng.random() < 0.3:
            continue
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            kf, vf = f.message_type.fields_by_name["key"], f.message_type.fields_by_name["value"]
            target = getattr(msg, f.name)
            for _ in range(rng.randint(0, 2)):
                k = _scalar(kf, rng)
                if vf.cpp_type == FD.CPPTYPE_MESSAGE:
                    if depth < 4:
                        _fill(target[k], rng, depth + 1)
                else:
                    target[k] = _scalar(vf, rng)
        elif f.cpp_type == FD.CPPTYPE_MESSAGE:
            if depth >= 4:
                continue
            if f.is_repeated:
                for _ in range(rng.randint(0, 2)):
                    _fill(getattr(msg, f.name).add(), rng, depth + 1)
            else:
                sub = getattr(msg, f.name)
                sub.SetInParent()
                _fill(sub, rng, depth + 1)
        elif f.is_repeated:
            getattr(msg, f.name).extend(_scalar(f, rng) for _ in range(rng.randint(0, 3)))
        else:
            setattr(msg, f.name, _scalar(f, rng))


def test_there_are_messages_to_compare() -> None:
    names = {m.DESCRIPTOR.full_name for m in MESSAGES}
    assert "permit.application.v1.Application" in names and len(names) > 50


@pytest.mark.parametrize("cls", MESSAGES, ids=lambda c: c.DESCRIPTOR.full_name)
def test_the_fast_printer_writes_what_protobuf_writes(cls: type[Message], monkeypatch: pytest.MonkeyPatch) -> None:
    import permit_gateway.jsonout as jsonout

    def no_fallback(msg: Message) -> None:
        raise AssertionError(f"{msg.DESCRIPTOR.full_name} fell back to protobuf's printer")

    rng = random.Random(cls.DESCRIPTOR.full_name)
    for _ in range(15):
        msg = cls()
        _fill(msg, rng, 0)
        want = json_format.MessageToDict(msg)
        with monkeypatch.context() as m:
            if not cls.DESCRIPTOR.full_name.startswith("google.protobuf."):
                m.setattr(jsonout.json_format, "MessageToDict", no_fallback)
            got = message_to_dict(msg)
        # NaN is not equal to itself: compare the JSON text.
        assert json_format.json.dumps(got, sort_keys=True) == json_format.json.dumps(want, sort_keys=True)
