#!/usr/bin/env python3
"""History per disk byte (issue 15): how many bytes of log a node keeps per byte of disk, next to
what zstd -3 makes of the same bytes cut into independent 64 KiB blocks (the peer: a store that
compresses blocks it can still seek between).

Corpora: the peers' CRI data set (../shared/bench/peers, its messages), each kind of
bench/corpus.py (real-world-like logs: Java with stack traces, Python, nginx, JSON, builds,
syslog, klog, PostgreSQL; --mib MiB each), and a trickle: a daemon that writes one line a
minute for a day (1,440 syslog lines, CRI timestamps a minute apart, each line appended and
ingested on its own, as it would arrive).

For each corpus:
  payload      the messages' bytes (after the CRI prefix "time stream P|F ", without newline)
  zstd -3      the lines (P fragments joined) joined with "\\n", cut into blocks of at most
               64 KiB on line boundaries, each block compressed alone at level 3 (libzstd
               through ctypes, else the zstd CLI); payload / sum of the compressed sizes
  ring         the real agent (--bin-dir) ingests the corpus as one container's kubelet log
               (pods dir <ns>_<pod>_<uid>/<container>/0.log) into a ring large enough that
               nothing rolls over (prefix 1 MiB, suffix 512 MiB); once it has every line, the
               ring file's allocated bytes (st_blocks * 512, as du) while the agent runs:
               payload / allocated, with the file's header and without it (the header: the
               superblock, checkpoint and metadata slots, 24,576 bytes, and in format 2 the two
               staging halves of the open block, 2 x C, C read from the superblock; only its
               allocated blocks are taken off)
  ours / zstd  ring (with header) as a share of zstd -3's history per byte: target >= 70 %

`ringctl info` lines that mention stored, original or ratio (a compressing format's own
account) are printed under the table. Markdown, as the other benchmarks.

  python3 bench/history_per_byte.py [--mib 8] [--seed 15] [--bin-dir .build/release]
                                    [--peers-lines N] [--trickle-lines 1440] [--keep]
                                    [--agent-args '--ring-format 1']

Loopback only; the agent is stopped by its PID; every wait is bounded; files under the peers'
ROOT (/tmp/peers/history), removed at the end unless --keep.
"""
import argparse, ctypes, ctypes.util, json, os, random, shlex, shutil, statistics, subprocess, sys, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import corpus  # noqa: E402
from agent_ingest import peers, start_agent  # noqa: E402  (the peers' helpers; the agent started as there)

ROOT = os.path.join(peers.ROOT, "history")
BLOCK = 64 * 1024
LEVEL = 3
SLOTS = 24576  # superblock 4 KiB, checkpoint slots 4 KiB, metadata slots 16 KiB (docs/ring-format.md)
PREFIX, SUFFIX = "1MiB", "512MiB"
CRI_START_NS = corpus.START * 1_000_000_000


# --------------------------------------------------------------------------- zstd -3, 64 KiB blocks

class Zstd:
    """Compressed size of a block at one level: libzstd (ctypes) when it loads, else the CLI."""

    def __init__(self, level):
        self.level = level
        self.lib = None
        for name in ("libzstd.so.1", ctypes.util.find_library("zstd")):
            try:
                lib = ctypes.CDLL(name) if name else None
            except OSError:
                lib = None
            if lib:
                break
        if lib:
            lib.ZSTD_compressBound.restype = ctypes.c_size_t
            lib.ZSTD_compressBound.argtypes = [ctypes.c_size_t]
            lib.ZSTD_createCCtx.restype = ctypes.c_void_p
            lib.ZSTD_freeCCtx.argtypes = [ctypes.c_void_p]
            lib.ZSTD_compressCCtx.restype = ctypes.c_size_t
            lib.ZSTD_compressCCtx.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p,
                                              ctypes.c_size_t, ctypes.c_int]
            lib.ZSTD_isError.argtypes = [ctypes.c_size_t]
            lib.ZSTD_versionString.restype = ctypes.c_char_p
            self.lib, self.cctx = lib, lib.ZSTD_createCCtx()
            self.capacity, self.dst = 0, None
            self.version = f"libzstd {lib.ZSTD_versionString().decode()}"
        else:
            out = subprocess.run(["zstd", "--version"], capture_output=True, text=True, timeout=10)
            if out.returncode != 0:
                raise SystemExit("neither libzstd.so.1 nor the zstd CLI is available")
            self.version = out.stdout.strip()

    def size(self, block):
        if self.lib is None:  # one process per block: slow, but the same frames as the library's
            out = subprocess.run(["zstd", f"-{self.level}", "-q", "-c", "--no-check"], input=block, capture_output=True, timeout=60)
            if out.returncode != 0:
                raise RuntimeError(out.stderr.decode())
            return len(out.stdout)
        need = self.lib.ZSTD_compressBound(len(block))
        if need > self.capacity:
            self.capacity, self.dst = need, ctypes.create_string_buffer(need)
        n = self.lib.ZSTD_compressCCtx(self.cctx, self.dst, self.capacity, block, len(block), self.level)
        if self.lib.ZSTD_isError(n):
            raise RuntimeError("ZSTD_compressCCtx failed")
        return n


def blocks(lines, size=BLOCK):
    """Lines joined with b"\\n", cut into blocks of at most `size` bytes on line boundaries (a
    longer line is a block of its own)."""
    block, n = [], 0
    for line in lines:
        if block and n + 1 + len(line) > size:
            yield b"\n".join(block)
            block, n = [], -1
        block.append(line)
        n += 1 + len(line)
    if block:
        yield b"\n".join(block)


def zstd_blocks(zstd, lines):
    return sum(zstd.size(b) for b in blocks(lines))


# --------------------------------------------------------------------------- corpora

class Corpus:
    def __init__(self, name, records, payload, lines):
        self.name = name          # the table's label
        self.records = records    # CRI lines the agent reads (P and F each count)
        self.payload = payload    # message bytes
        self.lines = lines        # whole lines (P fragments joined), for zstd
        self.ring = None          # filled in by measure()


def cri_ts(ns):
    s, sub = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + f".{sub:09d}Z"


def write_cri(path, lines, times, rng):
    """Lines (bytes) as one container's CRI log: stdout, full lines, stamped as containerd does
    when it reads them: a little after the program logged them (`times`, microseconds), in
    nanoseconds, the lines of one burst (an event's lines share its time) microseconds apart."""
    t = 0
    with open(path, "wb", buffering=1 << 20) as f:
        for line, us in zip(lines, times):
            t = max(t + rng.randrange(300, 6000), us * 1000 + rng.randrange(20_000, 400_000))
            f.write(f"{cri_ts(t)} stdout F ".encode() + line + b"\n")


def peers_corpus(path, limit):
    """The peers' data set: messages, the whole lines they make, and the CRI file to ingest
    (the data set itself, hard-linked, or its first `limit` lines)."""
    records, payload, lines, partial = 0, 0, [], b""
    head = []
    with open(peers.CRI, "rb") as f:
        for raw in f:
            if limit and records >= limit:
                break
            if limit:
                head.append(raw)
            _, _, tag, message = raw.rstrip(b"\n").split(b" ", 3)
            records += 1
            payload += len(message)
            if tag.startswith(b"P"):
                partial += message
            else:
                lines.append(partial + message)
                partial = b""
    if partial:
        lines.append(partial)
    if limit:
        with open(path, "wb") as f:
            f.writelines(head)
    else:
        os.link(peers.CRI, path)
    return Corpus(f"peers' CRI data set{'' if not limit else f' (first {limit:,} lines)'}", records, payload, lines)


def kind_corpus(kind, path, seed, mib):
    lines, times = [], []
    for line, us in corpus.generate(kind, seed, mib=mib, times=True):
        lines.append(line.encode())
        times.append(us)
    write_cri(path, lines, times, random.Random(f"cri {seed} {kind}"))
    return Corpus(kind, len(lines), sum(map(len, lines)), lines)


# --------------------------------------------------------------------------- the agent

def pod_dir(pods, tool, name):
    d = os.path.join(pods, f"tool-{tool}_{name}-0_{corpus.hash_stable(tool):08x}", "job")
    os.makedirs(d)
    return os.path.join(d, "0.log")


def rings(port):
    """The containers' rings by tool (each tool also has an activity ring, left out)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/internal/v2/rings?kind=continuous", timeout=10) as r:
        return {ring["tool"]: ring for ring in json.load(r)["rings"]}


def superblock(path):
    """(major version, block size B, staging capacity C) from a ring file's superblock: version 1
    has neither blocks nor staging (its bytes 64..72 are zero); version 2 keeps two staging
    halves of C bytes after the slots, the open block's records, before its regions."""
    with open(path, "rb") as f:
        sb = f.read(128)
    if sb[:8] != b"TFLRING\0":
        raise SystemExit(f"{path} is not a ring file")
    major = int.from_bytes(sb[8:10], "little")
    block, staging = int.from_bytes(sb[64:68], "little"), int.from_bytes(sb[68:72], "little")
    return major, block, staging


def allocated(path, header_bytes):
    """(allocated bytes of the file, allocated bytes within its first `header_bytes`)."""
    st = os.stat(path)
    total = st.st_blocks * 512
    head = 0
    fd = os.open(path, os.O_RDONLY)
    try:
        offset = 0
        while offset < header_bytes:
            try:
                start = os.lseek(fd, offset, os.SEEK_DATA)
            except OSError:  # ENXIO: no data past offset
                break
            if start >= header_bytes:
                break
            end = os.lseek(fd, start, os.SEEK_HOLE)
            head += min(end, header_bytes) - start
            offset = end
    except (AttributeError, OSError):
        head = min(header_bytes, total)  # no SEEK_DATA: count the header as fully allocated
    finally:
        os.close(fd)
    return total, min(head, total)


def ringctl_lines(ringctl, path):
    if not os.path.exists(ringctl):
        return []
    out = subprocess.run([ringctl, "info", path], capture_output=True, text=True, timeout=30)
    return [line.strip() for line in out.stdout.splitlines()
            if any(word in line.lower() for word in ("stored", "original", "ratio"))]


def measure(a, work, kinds):
    zstd = Zstd(LEVEL)
    pods, data = os.path.join(work, "pods"), os.path.join(work, "data")
    os.makedirs(pods)
    corpora = {}  # tool -> Corpus
    if a.peers_lines != 0:
        corpora["hpb-peers"] = peers_corpus(pod_dir(pods, "hpb-peers", "peers"), a.peers_lines)
    for kind in kinds:
        corpora[f"hpb-{kind}"] = kind_corpus(kind, pod_dir(pods, f"hpb-{kind}", kind), a.seed, a.mib)
    trickle_lines = [line.encode() for line in corpus.generate("syslog", a.seed, lines=a.trickle_lines, mean_ms=60_000)]
    if trickle_lines:
        trickle_log = pod_dir(pods, "hpb-trickle", "trickle")
        open(trickle_log, "wb").close()
        corpora["hpb-trickle"] = Corpus(f"trickle: syslog, a line a minute for {a.trickle_lines / 60:g} h, each ingested alone",
                                        len(trickle_lines), sum(map(len, trickle_lines)), trickle_lines)
    bulk = [tool for tool in corpora if tool != "hpb-trickle"]

    agent, port = start_agent(os.path.join(a.bin_dir, "logs-agent"), pods, data,
                              ["--prefix-bytes", PREFIX, "--suffix-bytes", SUFFIX, "--rate-bytes", "100GiB", "--burst-bytes", "100GiB",
                               "--budget-bytes", "100GiB", "--tool-share", "1", *shlex.split(a.agent_args)])
    try:
        def caught_up(tools):
            now = rings(port)
            return all(t in now and now[t]["records_written"] >= corpora[t].records for t in tools)

        if peers.wait_until(lambda: caught_up(bulk), timeout=a.timeout, step=0.05) is None:
            raise SystemExit(f"the agent did not ingest everything within {a.timeout} s: {rings(port)}")
        # The trickle: each line written alone once the one before is in the ring, so every line is its own append.
        t = CRI_START_NS
        with open(trickle_log if trickle_lines else os.devnull, "ab", buffering=0) as f:
            for i, line in enumerate(trickle_lines):
                t += 60_000_000_000 + random.Random(i).randrange(0, 1_000_000)
                f.write(f"{cri_ts(t)} stdout F ".encode() + line + b"\n")
                want = i + 1
                if peers.wait_until(lambda: (rings(port).get("hpb-trickle") or {}).get("records_written", 0) >= want,
                                    timeout=10, step=0.002) is None:
                    raise SystemExit(f"the agent did not ingest trickle line {want} within 10 s")
        now = rings(port)
        for tool, c in corpora.items():
            ring = now[tool]
            path = os.path.join(data, f"{ring['id']}.ring")
            version, block, staging = superblock(path)
            header = a.header_bytes if a.header_bytes is not None else SLOTS + 2 * staging
            total, head = allocated(path, header)
            c.ring = dict(id=ring["id"], allocated=total, header=head, header_bytes=header, version=version, block=block,
                          bytes_written=ring["bytes_written"],
                          rolled=ring["rolled_records"], dropped=ring["dropped_records"], truncated=ring["truncated_records"],
                          info=ringctl_lines(os.path.join(a.bin_dir, "ringctl"), path))
    finally:
        peers.stop(agent)
    for c in corpora.values():
        c.compressed = zstd_blocks(zstd, c.lines)
    return list(corpora.values()), zstd.version


# --------------------------------------------------------------------------- report

def report(a, results, zstd_version, took):
    versions = sorted({c.ring["version"] for c in results})
    formats = " and ".join(str(v) for v in versions)
    print(f"| corpus | lines | payload MB | zstd -3, 64 KiB blocks (x) | ring (format {formats}): payload / disk, with header (x) "
          "| without header (x) | ours as % of zstd |")
    print("|---|---|---|---|---|---|---|")
    kinds = [c for c in results if c.name in corpus.KINDS]

    def row(name, records, payload, compressed, disk, body):
        z, ours = payload / compressed, payload / disk
        print(f"| {name} | {records:,} | {payload / 1e6:.1f} | {z:.2f} | {ours:.2f} | {payload / body:.2f} | {100 * ours / z:.0f} % |")

    for c in results:
        row(c.name, c.records, c.payload, c.compressed, c.ring["allocated"], c.ring["allocated"] - c.ring["header"])
    if len(kinds) > 1:
        row(f"the {len(kinds)} corpus kinds together", sum(c.records for c in kinds), sum(c.payload for c in kinds),
            sum(c.compressed for c in kinds), sum(c.ring["allocated"] for c in kinds),
            sum(c.ring["allocated"] - c.ring["header"] for c in kinds))
    print()
    if kinds:
        shares = sorted(100 * (c.payload / c.ring["allocated"]) / (c.payload / c.compressed) for c in kinds)
        print(f"ours / zstd -3 in 64 KiB blocks, over the corpus kinds: **{statistics.median(shares):.0f} %** "
              f"[{shares[0]:.0f}–{shares[-1]:.0f} %] (target >= 70 %)")
    problems = [f"{c.name}: {what}" for c in results for what, bad in (
        (f"the ring counts {c.ring['bytes_written']:,} payload bytes, not {c.payload:,}", c.ring["bytes_written"] != c.payload),
        (f"{c.ring['rolled']:,} lines rolled over", c.ring["rolled"]),
        (f"{c.ring['dropped']:,} lines dropped", c.ring["dropped"]),
        (f"{c.ring['truncated']:,} lines truncated", c.ring["truncated"])) if bad]
    for p in problems:
        print(f"\n**check**: {p}")
    infos = [(c.name, line) for c in results for line in c.ring["info"]]
    if not os.path.exists(os.path.join(a.bin_dir, "ringctl")):
        print(f"\n(no {os.path.join(a.bin_dir, 'ringctl')}: the rings' own account, `ringctl info`, is not shown)")
    elif infos:
        print("\n`ringctl info`:\n")
        for name, line in infos:
            print(f"- {name}: {line}")
    if a.header_bytes is not None:
        header = f"the first {a.header_bytes:,} bytes of each file (--header-bytes)"
    else:
        sizes = sorted({c.ring["header_bytes"] for c in results})
        header = (f"the slots ({SLOTS:,} bytes: superblock, checkpoints, metadata)"
                  + (f" and the staging halves (2 x C: {' / '.join(f'{h - SLOTS:,}' for h in sizes if h > SLOTS)} bytes)" if sizes[-1] > SLOTS else ""))
    blocks_of = sorted({c.ring["block"] for c in results if c.ring["block"]})
    fmt = f"format {formats}" + (f", blocks of {' / '.join(f'{b // 1024} KiB' for b in blocks_of)}" if blocks_of else "")
    extra = f", logs-agent {a.agent_args}" if a.agent_args else ""
    print(f"\nRing ({fmt}{extra}): prefix {PREFIX}, suffix {SUFFIX} (nothing rolls over), allocated blocks (st_blocks) while "
          f"the agent runs; without header: less the allocated part of {header}. Corpora: bench/corpus.py --mib {a.mib:g} "
          f"--seed {a.seed}. {zstd_version}, level {LEVEL}, blocks of at most {BLOCK // 1024} KiB cut on line boundaries. {took:.0f} s.")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mib", type=float, default=8.0, help="size of each corpus kind, MiB (default 8)")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--kinds", nargs="+", choices=list(corpus.KINDS), default=list(corpus.KINDS))
    ap.add_argument("--bin-dir", default=os.path.join(REPO, ".build", "release"), help="where logs-agent and ringctl are")
    ap.add_argument("--peers-lines", type=int, default=None, help="only the first N lines of the peers' data set (0: leave it out)")
    ap.add_argument("--trickle-lines", type=int, default=1440, help="lines of the trickle, one a minute (default a day; 0: none)")
    ap.add_argument("--header-bytes", type=int, default=None,
                    help="bytes at the start of a ring file that are its header (default: from its superblock)")
    ap.add_argument("--agent-args", default="", help="more flags for logs-agent, e.g. '--ring-format 1'")
    ap.add_argument("--timeout", type=float, default=120, help="seconds the agent may take to ingest the bulk corpora")
    ap.add_argument("--keep", action="store_true", help=f"leave the pods and rings in {ROOT}")
    a = ap.parse_args()
    if not os.access(os.path.join(a.bin_dir, "logs-agent"), os.X_OK):
        raise SystemExit(f"no {a.bin_dir}/logs-agent: swift build -c release --product logs-agent (or --bin-dir)")
    if a.peers_lines != 0:
        assert peers.fsize(peers.CRI) > 0, "run: python3 ../shared/bench/peers/bench.py setup"
    started = time.time()
    work = peers.fresh(ROOT)
    try:
        results, version = measure(a, work, a.kinds)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    report(a, results, version, time.time() - started)


if __name__ == "__main__":
    main()
