"""Fuzz the readers: bad input must give LrvizError, never another exception, a hang or a lie.

    python bench/fuzz.py                   # long profile: 10,000 examples per source
    python bench/fuzz.py --examples 2000   # any size
    python bench/fuzz.py --quick           # CI: a few seconds, the same examples every run
    python bench/fuzz.py --parsing 200     # only: time hostile yaml lines and cells (200 s limit)

Sources of examples (hypothesis strategies; only generation, no shrinking):

* ``mutated``: every fixture under tests/fixtures/logs with bytes flipped, inserted (separators,
  quotes, ``nan``, braces, NUL), deleted, duplicated or cut;
* ``events``: every event fixture re-framed with valid CRCs after a protobuf mutation (a field's
  wire type changed, a varint or length altered, a field dropped, duplicated or added, at any
  depth: Event, Summary, Value, TensorProto, metadata), with a generated Event inserted (every
  field of that layout, some with the wrong wire type), or with random bytes inserted;
* ``json``: JSON fixtures (fastai is CSV; detectron2, HF, MMCV, MMEngine are JSON) with values
  replaced by hostile ones (5,000-digit integers, ``99999999999999999999:00:00``, deep nesting,
  long strings, wrong types) and keys renamed;
* ``random``: random bytes under log-like names;
* ``encodings``: text fixtures re-encoded (UTF-16 LE/BE with a byte-order mark, UTF-8 with a
  BOM), which must read the same series as the original, cut at any byte;
* ``pathological``: long runs of digits, spaces and separators in cells, lines and
  ``hparams.yaml`` (super-linear parsing shows as a time-out);
* ``special``: named pipes named like logs, alone and inside run folders, symlinks to
  ``/dev/zero`` and ``/dev/urandom``.

Each example runs in a worker process under a time limit (``--limit``, 10 s): ``load``, then
``list_columns``, then a live watcher fed the file in pieces, whose final data must equal
``load``'s. An *unexpected* error is any exception but LrvizError (or a watcher that disagrees
with ``load``, or a UTF-16 copy that reads differently); a *hang* is an example past the limit
(the worker is killed and replaced). Then ``memory``: peak RSS growth of ``load`` over the file
size, in a fresh process per input, for large inputs of every format. Exit status 1 when any
unexpected error or hang was seen.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LOGS = ROOT / "tests" / "fixtures" / "logs"
sys.path.insert(0, str(LOGS))
from hostile_events import EVENT, generate_message  # noqa: E402  (shared with the tests)
from hostile_events import varint as _varint  # noqa: E402

SOURCES = ("mutated", "events", "json", "random", "encodings", "pathological", "special")


def fixtures() -> list[Path]:
    return sorted(p for p in LOGS.rglob("*") if p.is_file() and p.suffix != ".py")


def _fixture_kind(path: Path) -> str:
    """The reader a fixture exercises (its format as lrviz detects it)."""
    from lrviz.loaders import detect

    try:
        return detect.detect(str(path))
    except Exception:
        return path.suffix or "?"


# --- the worker: runs one example under the parent's time limit ---------------------------


def _same_series(a, b) -> bool:
    import numpy as np

    if a.format != b.format or len(a.runs) != len(b.runs):
        return False
    for ra, rb in zip(a.runs, b.runs, strict=True):
        if [s.name for s in ra.series] != [s.name for s in rb.series]:
            return False
        for sa, sb in zip(ra.series, rb.series, strict=True):
            if not (
                np.array_equal(sa.x, sb.x, equal_nan=True)
                and np.array_equal(sa.y, sb.y, equal_nan=True)
            ):
                return False
    return True


def _check_model(log) -> str | None:
    """What is wrong with a loaded log's shape (None when nothing is)."""
    import numpy as np

    for run in log.runs:
        for s in run.series:
            if s.x.shape != s.y.shape:
                return f"series {s.name!r}: x and y differ in length"
            if s.x.size and not np.all(np.isfinite(s.x)):
                return f"series {s.name!r}: non-finite x"
            if s.x_axis != "index" and s.x.size > 1 and not np.all(np.diff(s.x) > 0):
                return f"series {s.name!r}: x not increasing"
    return None


def _watch_in_pieces(path: Path, data: bytes, cuts: list[int]):
    """A watcher's data after the file was written in pieces and then left alone."""
    from lrviz.errors import LrvizError
    from lrviz.loaders import LogWatcher, watch

    settled = getattr(watch, "SETTLED_SECONDS", 30.0)  # (also runs against older lrviz)

    grow = path.with_name("grow-" + path.name) if path.name else path
    if path.name.startswith("events.out.tfevents"):
        grow = path.parent / "grow" / path.name
        grow.parent.mkdir(exist_ok=True)
    grow.write_bytes(b"")
    w = LogWatcher(grow)
    pos = 0
    error = None
    for cut in [*sorted(c for c in cuts if c < len(data)), len(data)]:
        with open(grow, "ab") as f:
            f.write(data[pos:cut])
        pos = max(pos, cut)
        st = os.stat(grow)
        os.utime(grow, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
        try:
            w.poll()
            error = None
        except LrvizError as exc:
            error = exc
    old = time.time() - 10 * settled
    os.utime(grow, (old, old))
    try:
        w.poll()
        error = None
    except LrvizError as exc:
        error = exc
    return grow, w.data, error


def run_example(task: dict) -> tuple[str, str]:
    """("ok" | "lrviz" | "unexpected", detail) for one example."""
    from lrviz.errors import LrvizError
    from lrviz.loaders import list_columns, load

    path = Path(task["path"])
    outcome = "ok"
    try:
        log = load(path)
    except LrvizError as exc:
        log = None
        outcome = "lrviz"
        if task.get("special") and "no such file" in str(exc):
            return "unexpected", f"special file reported as missing: {exc}"
    except Exception:
        return "unexpected", "load: " + traceback.format_exc(limit=-3)
    if log is not None:
        problem = _check_model(log)
        if problem:
            return "unexpected", f"load: {problem}"
    if path.is_file() or task.get("special"):
        try:
            list_columns(path)
        except LrvizError:
            pass
        except Exception:
            return "unexpected", "list_columns: " + traceback.format_exc(limit=-3)
    same_as = task.get("same_as")
    if same_as is not None and log is not None:
        try:
            want = load(Path(same_as))
        except LrvizError:
            want = None
        if want is not None and not _same_series(log, want):
            return "unexpected", f"reads differently from {Path(same_as).name}"
    if task.get("watch") and path.is_file():
        data = path.read_bytes()
        try:
            grow, watched, error = _watch_in_pieces(path, data, task.get("cuts", []))
        except Exception:
            return "unexpected", "watch: " + traceback.format_exc(limit=-3)
        if error is None and log is not None:
            try:
                again = load(grow)
            except LrvizError:
                again = None
            if watched is not None and again is not None and not _same_series(watched, again):
                return "unexpected", "watch: final data differs from load()"
    return outcome, ""


def _worker(conn) -> None:
    import resource

    # A runaway read fails here with MemoryError (reported) instead of taking the machine.
    limit = 4 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import warnings

    import lrviz.loaders  # noqa: F401  (import once, not per example)

    # A warning (numpy overflow on absurd values) is noise on the user's terminal: count it.
    warnings.simplefilter("error")

    while True:
        task = conn.recv()
        if task is None:
            return
        t = time.perf_counter()
        try:
            outcome, detail = run_example(task)
        except BaseException:
            outcome, detail = "unexpected", traceback.format_exc(limit=-3)
        conn.send((outcome, detail, time.perf_counter() - t))


class Pool:
    """One worker process; an example past the time limit kills it (a hang) and starts another."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self._ctx = mp.get_context("fork")
        self._start()

    def _start(self) -> None:
        self.conn, child = self._ctx.Pipe()
        self.proc = self._ctx.Process(target=_worker, args=(child,), daemon=True)
        self.proc.start()

    def run(self, task: dict) -> tuple[str, str, float]:
        self.conn.send(task)
        if self.conn.poll(self.limit):
            try:
                return self.conn.recv()
            except EOFError:
                pass
            self.proc.join(1)
            self._start()
            return "unexpected", f"worker died (exit {self.proc.exitcode})", 0.0
        self.proc.kill()
        self.proc.join()
        self._start()
        return "hang", f"no answer in {self.limit:.0f} s", self.limit

    def close(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()


# --- mutations ------------------------------------------------------------------------------

_TOKENS = [b",", b"\n", b'"', b"\r", b"nan", b"{", b"}", b" ", b";", b"\x00", b"-", b"e", b":"]


def mutate_bytes(draw, st, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "dup"]))
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            data[i:i] = draw(st.sampled_from(_TOKENS))
        elif op == "delete":
            del data[i : i + draw(st.integers(1, 8))]
        elif op == "truncate":
            del data[i:]
        else:
            j = draw(st.integers(0, len(data) - 1))
            data[i:i] = data[j : j + 40]
    return bytes(data)


def _fields(buf: bytes):
    """Top-level protobuf fields of ``buf`` as [num, wire, raw value bytes], or None."""
    from lrviz.loaders.tfevents import _Bad
    from lrviz.loaders.tfevents import _fields as walk

    out = []
    try:
        for num, wire, value, s, e in walk(buf, 0, len(buf)):
            if wire == 0:
                out.append([num, wire, _varint(value)])
            elif wire in (1, 5):
                out.append([num, wire, bytes(value)])
            else:
                out.append([num, wire, buf[s:e]])
    except _Bad:
        return None
    return out


def _encode(fields) -> bytes:
    out = bytearray()
    for num, wire, raw in fields:
        out += _varint((num << 3) | wire)
        if wire == 2:
            out += _varint(len(raw))
        out += raw
    return bytes(out)


def mutate_message(draw, st, buf: bytes, depth: int = 0) -> bytes:
    """A protobuf message with one structural change somewhere in it (framing kept valid or
    broken on purpose)."""
    fields = _fields(buf)
    if not fields or depth > 6:
        return mutate_bytes(draw, st, buf) if buf else buf
    k = draw(st.integers(0, len(fields) - 1))
    num, wire, raw = fields[k]
    nested = wire == 2 and _fields(raw) is not None and raw
    op = draw(
        st.sampled_from(
            ["recurse", "recurse", "wire", "value", "drop", "dup", "add", "bytes", "num"]
        )
    )
    if op == "recurse" and nested:
        fields[k][2] = mutate_message(draw, st, raw, depth + 1)
    elif op == "wire":
        # Same bytes under another wire type: what a valid-CRC, wrong-type record looks like.
        new_wire = draw(st.sampled_from([0, 1, 2, 5]))
        if new_wire == 0:
            fields[k] = [num, 0, _varint(draw(st.integers(0, (1 << 64) - 1)))]
        elif new_wire == 1:
            fields[k] = [num, 1, (raw + bytes(8))[:8]]
        elif new_wire == 5:
            fields[k] = [num, 5, (raw + bytes(4))[:4]]
        else:
            fields[k] = [num, 2, raw if wire == 2 else draw(st.binary(max_size=12))]
    elif op == "value":
        if wire == 0:
            fields[k][2] = _varint(
                draw(st.sampled_from([0, 1, 2, 19, 14, 7, 10, 1 << 63, (1 << 64) - 1]))
            )
        elif wire == 1:
            fields[k][2] = struct.pack("<d", draw(st.floats(allow_nan=True)))
        elif wire == 5:
            fields[k][2] = struct.pack("<f", draw(st.floats(width=32, allow_nan=True)))
        else:
            fields[k][2] = draw(st.binary(max_size=16))
    elif op == "drop":
        del fields[k]
    elif op == "dup":
        fields.insert(k, list(fields[k]))
    elif op == "add":
        new_num = draw(st.integers(1, 20))
        new_wire = draw(st.sampled_from([0, 1, 2, 5]))
        value = {0: _varint(draw(st.integers(0, 1 << 64))), 1: bytes(8), 5: bytes(4)}.get(
            new_wire, draw(st.binary(max_size=16))
        )
        fields.insert(k, [new_num, new_wire, value])
    elif op == "num":
        fields[k][0] = draw(st.integers(1, 20))
    else:
        return mutate_bytes(draw, st, _encode(fields))
    return _encode(fields)


# Python cannot even print an integer of more than 4,300 digits: it is spliced into the text.
_HUGE_INT = "__huge_integer__"
_HOSTILE = [
    _HUGE_INT,
    "99999999999999999999:00:00",
    "9" * 400 + ":00:00",
    "1" * 20000,
    "1e999",
    -0.0,
    float("nan"),
    float("inf"),
    True,
    None,
    [1, 2],
    {"a": {"b": 1}},
    "x" * 100000,
    "12:34",
    "",
]


def mutate_json(draw, st, obj, depth: int = 0):
    """A JSON value with one value replaced by a hostile one, or one key renamed."""
    if isinstance(obj, dict) and obj and depth < 8:
        keys = list(obj)
        key = draw(st.sampled_from(keys))
        op = draw(st.sampled_from(["value", "value", "recurse", "rename", "drop"]))
        out = dict(obj)
        if op == "recurse":
            out[key] = mutate_json(draw, st, obj[key], depth + 1)
        elif op == "rename":
            new = draw(st.sampled_from(["step", "iteration", "iter", "mode", "epoch", "lr", "x"]))
            out[new] = out.pop(key)
        elif op == "drop":
            del out[key]
        else:
            out[key] = draw(st.sampled_from(_HOSTILE))
        return out
    if isinstance(obj, list) and obj and depth < 8:
        i = draw(st.integers(0, len(obj) - 1))
        out = list(obj)
        out[i] = mutate_json(draw, st, obj[i], depth + 1)
        return out
    return draw(st.sampled_from(_HOSTILE))


def _deep(n: int) -> str:
    return "[" * n + "]" * n


# --- building examples ------------------------------------------------------------------------


class Examples:
    """Writes each example into its own folder and describes the task for the worker."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.n = 0

    def folder(self) -> Path:
        self.n += 1
        d = self.root / f"e{self.n}"
        d.mkdir()
        return d

    def top(self, task: dict) -> Path:
        """The example's own folder."""
        d = Path(task["path"])
        while d.parent != self.root:
            d = d.parent
        return d

    def done(self, task: dict) -> None:
        shutil.rmtree(self.top(task), ignore_errors=True)


def strategies(st, files: list[Path]):
    from lrviz.loaders.tfrecord import read_records

    sys.path.insert(0, str(LOGS))
    from make_fixtures import encode_record

    text_files = [p for p in files if not p.name.startswith("events.out")]
    event_files = [p for p in files if p.name.startswith("events.out")]
    json_files = [p for p in files if p.suffix == ".json"]

    @st.composite
    def mutated(draw):
        src = draw(st.sampled_from(files))
        return src, src.name, mutate_bytes(draw, st, src.read_bytes()), {}

    @st.composite
    def events(draw):
        src = draw(st.sampled_from(event_files))
        data = src.read_bytes()
        payloads = [data[s : s + n] for s, n in read_records(data)]
        how = draw(st.sampled_from(["mutate", "mutate", "generate", "random"]))
        if how == "mutate" and payloads:
            k = draw(st.integers(0, len(payloads) - 1))
            for _ in range(draw(st.integers(1, 3))):
                payloads[k] = mutate_message(draw, st, payloads[k])
        else:
            new = generate_message(draw, st, EVENT) if how == "generate" else draw(st.binary())
            payloads.insert(draw(st.integers(0, len(payloads))), new)
        return src, src.name, b"".join(encode_record(p) for p in payloads), {}

    @st.composite
    def json_values(draw):
        src = draw(st.sampled_from(json_files))
        text = src.read_text(encoding="utf-8-sig")
        try:
            doc = json.loads(text)
            lines = None
        except ValueError:
            lines = [json.loads(line) for line in text.splitlines() if line.strip()]
        if lines is None:
            out = json.dumps(mutate_json(draw, st, doc), indent=draw(st.sampled_from([None, 2])))
        else:
            k = draw(st.integers(0, len(lines) - 1))
            lines[k] = mutate_json(draw, st, lines[k])
            if draw(st.integers(0, 9)) == 0:
                return src, src.name, (_deep(3000) + "\n").encode() + text.encode(), {}
            out = "\n".join(json.dumps(r) for r in lines) + "\n"
        out = out.replace(f'"{_HUGE_INT}"', "9" * 5000)
        return src, src.name, out.encode(), {}

    @st.composite
    def random_bytes(draw):
        name = draw(
            st.sampled_from(
                ["log.csv", "metrics.json", "events.out.tfevents.1.h", "trainer_state.json", "x"]
            )
        )
        return None, name, draw(st.binary(max_size=600)), {}

    @st.composite
    def encodings(draw):
        src = draw(st.sampled_from(text_files))
        raw = src.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        encoding = draw(st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"]))
        bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(encoding, b"")
        data = bom + text.encode(encoding)
        extra = {"same_as": str(src)}
        if draw(st.integers(0, 4)) == 0:
            data = data[: draw(st.integers(0, len(data)))]
            extra = {}
        return src, src.name, data, extra

    @st.composite
    def pathological(draw):
        n = draw(st.sampled_from([5000, 20000, 100000]))
        kind = draw(st.sampled_from(["cell", "cellx", "spaces", "yaml", "seps", "quotes", "dur"]))
        if kind == "cell":
            return None, "metrics.csv", b"step,loss\n1," + b"1" * n + b"\n", {}
        if kind == "cellx":
            return None, "metrics.csv", b"step,loss\n1," + b"1" * n + b"x\n2,1\n", {}
        if kind == "spaces":
            return None, "metrics.csv", b"step,loss\n1," + b" " * n + b"x\n", {}
        if kind == "seps":
            return None, "metrics.csv", b"step,loss\n1,2" + b"," * n + b"3\n", {}
        if kind == "quotes":
            return None, "metrics.csv", b'step,loss\n1,"' + b'""' * n + b'"\n', {}
        if kind == "dur":
            return (
                None,
                "history.csv",
                b"epoch,train_loss,valid_loss,time\n0,1,2," + (b"9" * n) + b":00:00\n",
                {},
            )
        return None, "hparams.yaml", b" " * n + b"x\nlr: 0.1\n" + b" " * n + b"y: 1\n", {}

    return {
        "mutated": mutated(),
        "events": events(),
        "json": json_values(),
        "random": random_bytes(),
        "encodings": encodings(),
        "pathological": pathological(),
    }


def _place(examples: Examples, name: str, data: bytes, draw_cuts) -> dict:
    folder = examples.folder()
    if name == "hparams.yaml":
        # Parameters beside a metrics file, in a version folder: the folder is loaded.
        v = folder / "version_0"
        v.mkdir()
        (v / "hparams.yaml").write_bytes(data)
        (v / "metrics.csv").write_bytes(b"step,train_loss\n1,2.0\n")
        return {"path": str(folder)}
    if name.startswith("events.out"):
        run = folder / "run"
        run.mkdir()
        path = run / name
    else:
        path = folder / name
    path.write_bytes(data)
    return {"path": str(path), "watch": True, "cuts": draw_cuts}


def special_examples(examples: Examples) -> list[tuple[str, dict]]:
    """Named pipes and devices where logs are expected."""
    out = []

    def fifo(rel: str) -> Path:
        folder = examples.folder()
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(p)
        return folder

    for name in ("metrics.csv", "trainer_state.json", "events.out.tfevents.1.h", "x.json"):
        folder = fifo(name)
        out.append((f"fifo {name}", {"path": str(folder / name), "special": True}))
    for rel in (
        "checkpoint-1/trainer_state.json",
        "run/events.out.tfevents.1.h",
        "version_0/metrics.csv",
        "metrics.csv",
    ):
        out.append((f"fifo in folder {rel}", {"path": str(fifo(rel)), "special": True}))
    for device in ("/dev/zero", "/dev/urandom"):
        for rel in (
            "metrics.csv",
            "run/events.out.tfevents.1.h",
            "checkpoint-1/trainer_state.json",
        ):
            for what in ("folder", "file"):
                folder = examples.folder()
                p = folder / rel
                p.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(device, p)
                target = folder if what == "folder" else p
                out.append((f"{device} as {rel} ({what})", {"path": str(target), "special": True}))
    # A good run beside a pipe: the good one must still open.
    folder = examples.folder()
    (folder / "version_0").mkdir()
    (folder / "version_0" / "metrics.csv").write_bytes(b"step,train_loss\n1,2.0\n")
    (folder / "version_1").mkdir()
    os.mkfifo(folder / "version_1" / "metrics.csv")
    out.append(("good run beside a pipe", {"path": str(folder), "special": True}))
    return out


# --- the run ----------------------------------------------------------------------------------


def fuzz(
    examples_per_source: int,
    limit: float,
    seed: int | None,
    derandomize: bool,
    keep: Path | None = None,
) -> dict:
    import hypothesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    files = fixtures()
    kinds = {str(p): _fixture_kind(p) for p in files}
    stats: dict = defaultdict(Counter)
    failures: dict = defaultdict(list)
    slowest: dict = defaultdict(float)
    tmp = Path(tempfile.mkdtemp(prefix="lrviz-fuzz-"))
    examples = Examples(tmp)
    pool = Pool(limit)
    t0 = time.perf_counter()

    def record(
        source: str, reader: str, outcome: str, detail: str, seconds: float, task: dict
    ) -> None:
        for key in (source, f"{source}:{reader}"):
            stats[key]["examples"] += 1
            stats[key][outcome] += 1
            slowest[key] = max(slowest[key], seconds)
        if outcome in ("unexpected", "hang"):
            if len(failures[source]) < 5:
                failures[source].append(f"[{reader}] {detail.strip()[-600:]}")
            if keep is not None:  # the example itself, to run again
                where = keep / f"{source}-{stats[source]['examples']}"
                shutil.copytree(examples.top(task), where, symlinks=True, dirs_exist_ok=True)
                (where / "task.json").write_text(json.dumps({**task, "detail": detail}))

    try:
        for label, task in special_examples(examples):
            outcome, detail, seconds = pool.run(task)
            record("special", label, outcome, detail, seconds, task)
            examples.done(task)
        strats = strategies(st, files)

        def make_test(source: str):
            @settings(
                max_examples=examples_per_source,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                derandomize=derandomize,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strats[source], cuts=st.lists(st.integers(0, 4000), max_size=4))
            def one(case, cuts):
                src, name, data, extra = case
                task = _place(examples, name, data, cuts)
                task.update(extra)
                outcome, detail, seconds = pool.run(task)
                reader = kinds.get(str(src), "random") if src is not None else name
                record(source, reader, outcome, detail, seconds, task)
                examples.done(task)

            if seed is not None and not derandomize:
                one = hypothesis.seed(seed + SOURCES.index(source))(one)
            return one

        for source in SOURCES[:-1]:
            make_test(source)()
    finally:
        pool.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "stats": stats,
        "failures": failures,
        "slowest": slowest,
        "seconds": time.perf_counter() - t0,
    }


# --- memory -----------------------------------------------------------------------------------

_MEMORY_CHILD = r"""
import json, os, sys, time
sys.path.insert(0, {root!r})
from lrviz.errors import LrvizError
from lrviz.loaders import load
import pandas  # the app imports it once for large CSVs; not the log's cost
def high_water():
    # VmHWM, not ru_maxrss: after fork + exec, ru_maxrss still holds the forking parent's
    # resident size (the bench writing its inputs), while VmHWM is this program's own.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
def resident():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
base = resident()
t = time.perf_counter()
try:
    load(sys.argv[1]); outcome = "ok"
except LrvizError as exc:
    outcome = "LrvizError: " + str(exc)[-90:]
elapsed = time.perf_counter() - t
print(json.dumps({{"growth": high_water() - base, "time": elapsed, "outcome": outcome}}))
"""


def write_big(kind: str, path: Path, mb: int) -> Path:
    """A large input of one format (about ``mb`` MB)."""
    import numpy as np

    target = mb << 20
    rng = np.random.default_rng(0)
    if kind == "events":
        sys.path.insert(0, str(LOGS))
        import make_fixtures as enc

        encode_record = enc.encode_record
        one = encode_record(enc.event(1, 1.0, [enc.scalar_value("train/loss", 0.5)]))
        n = target // len(one)
        with open(path, "wb") as f:
            for start in range(0, n, 50_000):
                f.write(
                    b"".join(
                        encode_record(
                            enc.event(s, float(s), [enc.scalar_value("train/loss", 1.0 / (s + 1))])
                        )
                        for s in range(start, min(n, start + 50_000))
                    )
                )
        return path
    if kind in ("hf", "hf-indented"):
        n = target // (100 if kind == "hf" else 160)
        entries = [
            {"epoch": i / 1000, "grad_norm": float(v), "learning_rate": 1e-4, "loss": float(v)}
            | {"step": i}
            for i, v in enumerate(rng.random(n))
        ]
        doc = {"best_metric": None, "global_step": n, "log_history": entries}
        path.write_text(json.dumps(doc, indent=None if kind == "hf" else 2))
        return path
    if kind in ("detectron2", "mmengine", "mmcv"):
        lines = []
        size = 0
        i = 0
        while size < target:
            v = float(rng.random())
            if kind == "detectron2":
                r = {"iteration": i, "lr": 0.02, "total_loss": v, "loss_cls": v / 2, "time": 0.3}
            elif kind == "mmengine":
                r = {"lr": 0.02, "loss": v, "time": 0.3, "epoch": 1, "iter": i, "step": i}
            else:
                r = {"mode": "train", "epoch": 1 + i // 1000, "iter": i % 1000 + 1, "lr": 0.02}
                r |= {"loss": v, "time": 0.3}
            line = json.dumps(r) + "\n"
            lines.append(line)
            size += len(line)
            i += 1
        path.write_text("".join(lines))
        return path
    if kind in ("csv", "utf16-csv"):
        n = target // 40
        rows = zip(range(n), rng.random(n).tolist(), rng.random(n).tolist(), strict=True)
        body = "\n".join(f"{s},{v!r},{w!r}" for s, v, w in rows)
        text = "step,train_loss,lr\n" + body + "\n"
        path.write_bytes(text.encode("utf-16") if kind == "utf16-csv" else text.encode())
        return path
    if kind == "one-line":
        with open(path, "wb") as f:
            f.write(b"step,loss\n1,")
            f.write(b"1," * (target // 2))
        return path
    if kind == "wide":
        cols = 1_000_000
        header = ",".join(f"c{i}" for i in range(cols))
        row = ",".join("1" for _ in range(cols))
        path.write_text(header + "\n" + row + "\n" + row + "\n")
        return path
    raise ValueError(kind)


MEMORY_KINDS = (
    "csv",
    "utf16-csv",
    "hf",
    "hf-indented",
    "detectron2",
    "mmengine",
    "mmcv",
    "events",
    "one-line",
    "wide",
)
_NAMES = {
    "hf": "trainer_state.json",
    "hf-indented": "trainer_state.json",
    "detectron2": "metrics.json",
    "mmengine": "scalars.json",
    "mmcv": "20230101.log.json",
    "events": "events.out.tfevents.1.host",
}


def memory(kinds, mb: int) -> list[dict]:
    rows = []
    for kind in kinds:
        tmp = Path(tempfile.mkdtemp(prefix="lrviz-mem-"))
        try:
            path = write_big(kind, tmp / _NAMES.get(kind, f"{kind}.csv"), mb)
            size = path.stat().st_size
            out = subprocess.run(
                [sys.executable, "-c", _MEMORY_CHILD.format(root=str(ROOT)), str(path)],
                capture_output=True,
                text=True,
                check=True,
                timeout=600,
            )
            got = json.loads(out.stdout)
            got.update(kind=kind, size=size, ratio=got["growth"] / size)
            rows.append(got)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return rows


# --- parsing time on hostile lines ---------------------------------------------------------------

PARSING_CASES = (
    ("hparams.yaml: 1,000 spaces + x", "parse_yaml", " " * 1000 + "x\n"),
    ("hparams.yaml: 2,000 spaces + x", "parse_yaml", " " * 2000 + "x\n"),
    ("hparams.yaml: 4,000 spaces + x", "parse_yaml", " " * 4000 + "x\n"),
    ("hparams.yaml: 1,000,000 spaces + x", "parse_yaml", " " * 1_000_000 + "x\n"),
    ("cell: 20,000 digits + x", "parse_cell", "1" * 20_000 + "x"),
    ("cell: 200,000 digits + x", "parse_cell", "1" * 200_000 + "x"),
    ("cell: 1,000,000 digits", "parse_cell", "1" * 1_000_000),
)
_PARSING_CHILD = r"""
import sys, time
sys.path.insert(0, {root!r})
from lrviz.loaders.hparams import parse_yaml
from lrviz.loaders.text import parse_cell
text = sys.stdin.read()
fn = {{"parse_yaml": parse_yaml, "parse_cell": parse_cell}}[sys.argv[1]]
t = time.perf_counter(); fn(text); print(time.perf_counter() - t)
"""


def parsing_times(limit: float) -> list[tuple[str, float | None]]:
    """Seconds per hostile input, each in a fresh process (None: past ``limit``)."""
    rows = []
    for label, fn, text in PARSING_CASES:
        try:
            out = subprocess.run(
                [sys.executable, "-c", _PARSING_CHILD.format(root=str(ROOT)), fn],
                input=text,
                capture_output=True,
                text=True,
                check=True,
                timeout=limit,
            )
            rows.append((label, float(out.stdout)))
        except subprocess.TimeoutExpired:
            rows.append((label, None))
    return rows


# --- report -----------------------------------------------------------------------------------


def report(result: dict, mem: list[dict]) -> int:
    stats, failures, slowest = result["stats"], result["failures"], result["slowest"]
    print(f"fuzz: {result['seconds']:.0f} s")
    print(
        f"{'source / reader':48s} {'examples':>8s} {'LrvizError':>10s} {'unexpected':>10s}"
        f" {'hangs':>5s} {'max s':>6s}"
    )
    bad = 0
    for source in SOURCES:
        keys = [source, *sorted(k for k in stats if k.startswith(source + ":"))]
        for key in keys:
            if key not in stats:
                continue
            c = stats[key]
            label = key if key == source else "  " + key.split(":", 1)[1]
            print(
                f"{label[:48]:48s} {c['examples']:8d} {c['lrviz']:10d} {c['unexpected']:10d}"
                f" {c['hang']:5d} {slowest[key]:6.2f}"
            )
            if key == source:
                bad += c["unexpected"] + c["hang"]
    total = sum(stats[s]["examples"] for s in SOURCES if s in stats)
    print(f"total: {total} examples, {bad} unexpected errors or hangs")
    for source, lines in failures.items():
        print(f"\n{source}: first failures")
        for line in lines:
            print("  " + line.replace("\n", "\n    "))
    if mem:
        print(
            f"\n{'memory: input':14s} {'MB':>7s} {'peak RSS growth':>16s} {'x file':>7s} {'s':>6s}"
        )
        for row in mem:
            print(
                f"{row['kind']:14s} {row['size'] / 1e6:7.1f} {row['growth'] / 1e6:13.1f} MB"
                f" {row['ratio']:7.2f} {row['time']:6.2f}  {row['outcome']}"
            )
        worst = max(mem, key=lambda r: r["ratio"])
        print(f"worst memory ratio: {worst['ratio']:.2f}x ({worst['kind']}; target <= 3x)")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=10_000, help="examples per source")
    parser.add_argument("--quick", action="store_true", help="CI profile: few, fixed examples")
    parser.add_argument("--limit", type=float, default=10.0, help="seconds per example")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--memory-mb", type=int, default=50, help="size of the memory inputs")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--keep", type=Path, help="copy failing examples into this folder")
    parser.add_argument(
        "--parsing", type=float, metavar="SECONDS", help="only time hostile lines, each up to"
    )
    args = parser.parse_args(argv)
    if args.parsing:
        for label, seconds in parsing_times(args.parsing):
            shown = f"> {args.parsing:.0f} s" if seconds is None else f"{seconds * 1e3:.2f} ms"
            print(f"{label:40s} {shown}")
        return 0
    per_source = 40 if args.quick else args.examples
    result = fuzz(per_source, args.limit, args.seed, derandomize=args.quick, keep=args.keep)
    mem = []
    if not args.no_memory:
        kinds = ("csv", "hf", "detectron2") if args.quick else MEMORY_KINDS
        mem = memory(kinds, 12 if args.quick else args.memory_mb)
    return report(result, mem)


if __name__ == "__main__":
    sys.exit(main())
