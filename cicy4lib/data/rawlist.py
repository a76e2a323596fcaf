"""The raw Oxford list (cicy4list.txt / .zip), parsed streamed and vectorised."""
from __future__ import annotations

import io
import re
import warnings
import zipfile
import zlib
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from . import checks
from ..constants import (DEFAULT_SCALE, MAX_COLS as N_COLS, MAX_ROWS as N_ROWS, REAL_LIST_ENTRIES,
                         REAL_LIST_NON_PRODUCT)
from ..errors import DataError
from .dataset import CICYData


# --------------------------------------------------------------------------- raw list (cicy4list.txt)
#
# The list is one Mathematica expression, {{ID, rows, cols, {{degrees}}, Euler, isProduct, h11,
# h21, h31, h22, flag}, ...}, ~300 MB with entries wrapped over lines. Instead of one
# ast.literal_eval per entry we scan fixed-size byte chunks with numpy: braces give the nesting
# depth (2 entry, 3 matrix, 4 row), delimiters give the tokens, and the number of tokens before
# each brace turns entries, matrices and rows into token ranges, so fields, shapes and degrees
# come out of a few whole-array operations. Each chunk is cut after its last complete entry and
# the tail carried into the next one: memory stays at a few chunk sizes plus the int8 output.

_CHUNK_BYTES = 1 << 22
_MAX_ENTRY_BYTES = 1 << 20  # no real entry comes close; more means unbalanced braces
_ABSENT, _NUM, _TRUE, _FALSE, _NULL, _BAD = 0, 1, 2, 3, 4, -1
_WORDS = {b"True": _TRUE, b"False": _FALSE, b"Null": _NULL}
_LAYOUT = "{ID, rows, cols, {{degree rows}}, Euler, isProduct, h11, h21, h31, h22, flag}"


def _pack(word: bytes) -> int:
    return sum(b << (8 * k) for k, b in enumerate(word))


_PACKED_WORDS = {_pack(w): code for w, code in _WORDS.items()}

def read_cicy4_list(path, *, drop_products: bool = True, scale: float | None = None,
                    chunk_bytes: int = _CHUNK_BYTES, check_euler: bool = True,
                    check_labels: bool = True, n_jobs: int | None = None) -> CICYData:
    """Load ``cicy4list.txt`` (or the ``.zip`` holding it), streamed, and check every entry.

    Product entries have no Hodge numbers in the list (``Null`` or omitted): -1 when kept.
    ``meta`` records the number of entries read, the products and the last field ("flag").
    Every kept entry must be a valid configuration (Calabi-Yau condition, dimension 4), its
    Hodge numbers in range and consistent with its Euler field (``check_labels``), and
    (``check_euler``) its Euler field equal to the exact chi of its matrix (the whole list takes
    about a minute). ``check_labels=False`` loads the labels as stored (the verifier lists the
    wrong ones instead of stopping at the first).
    """
    path = Path(path)
    with ExitStack() as stack:
        if path.suffix.lower() == ".zip":
            try:
                archive = stack.enter_context(zipfile.ZipFile(path))
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
                raise DataError(f"{path}: not a readable zip archive ({err})") from None
            member = _list_member(archive, path)
            try:
                stream = stack.enter_context(archive.open(member))
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as err:
                raise DataError(f"{path}:{member}: cannot open ({err})") from None
            name = f"{path}:{member}"
        else:
            try:
                stream, name = stack.enter_context(open(path, "rb")), str(path)
            except OSError as err:
                raise DataError(f"{path}: cannot open ({err})") from None
        try:
            parsed = parse_cicy4_list(stream, name=name, drop_products=drop_products, chunk_bytes=chunk_bytes)
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as err:  # damaged compressed data
            raise DataError(f"{name}: read error, the data is damaged ({type(err).__name__}: {err})") from None
    conf = parsed.pop("conf")
    if drop_products and len(conf) == 0 and parsed["n_products"]:
        raise DataError(f"{name}: all {parsed['n_products']:,} entries are marked as direct products (isProduct "
                        "True), so nothing is left after dropping them (load with drop_products=False to keep them)")
    how = "given" if scale is not None else "default"
    scale = float(scale if scale is not None else DEFAULT_SCALE)
    largest = int(conf.max()) if len(conf) else 0
    if largest > scale:
        warnings.warn(f"{name}: largest degree {largest} exceeds the scale {scale:g}: model inputs go above 1",
                      stacklevel=2)
    ids = parsed["ids"]
    # entries are numbered from 1, as the parser's messages do (with products dropped, the
    # number counts kept entries; the ID is the list's own)
    checks.check_configurations(conf, name, ids, base=1)
    if check_labels:
        checks.check_hodge(parsed["hodge"], name, parsed["euler"], ids, base=1)
    if check_euler:
        known = np.flatnonzero(parsed["euler"] != -1)
        chi = checks.computed_euler(conf, name, ids, n_jobs=n_jobs, base=1)
        wrong = known[chi[known] != parsed["euler"][known]]
        if len(wrong):
            i = int(wrong[0])
            raise DataError(f"{name}: entry {i + 1} (ID {int(ids[i])}) has Euler number {int(parsed['euler'][i])} "
                            f"but its configuration has chi = {int(chi[i])} ({len(wrong)} such entries)")
    n_entries, n_products = parsed.pop("n_entries"), parsed.pop("n_products")
    meta = {"scale_from": how, "largest_degree": largest, "n_entries": n_entries,
            "n_products": n_products, "flag": parsed.pop("flag")}
    whole = n_entries == REAL_LIST_ENTRIES and n_entries - n_products == REAL_LIST_NON_PRODUCT
    provenance = {"kind": "real-list" if whole else "user", "source": str(path), "n_entries": n_entries,
                  "n_products": n_products, "euler_checked": bool(check_euler)}
    return CICYData(conf, parsed["hodge"], parsed["euler"], parsed["is_product"], ids,
                    scale, str(path), None, meta, provenance)


def _list_member(archive: zipfile.ZipFile, path: Path) -> str:
    names = [n for n in archive.namelist() if not n.endswith("/")]
    texts = [n for n in names if n.lower().endswith(".txt")]
    for candidates in ([n for n in texts if Path(n).name == "cicy4list.txt"], texts, names):
        if len(candidates) == 1:
            return candidates[0]
    raise DataError(f"{path}: expected one cicy4list.txt inside, found {names or 'nothing'}")


def parse_cicy4_list(stream, *, name: str = "<list>", drop_products: bool = True,
                     chunk_bytes: int = _CHUNK_BYTES) -> dict:
    """Parse the raw list from a binary stream (or bytes / str) into arrays.

    Returns a dict: conf int8 (N, 16, 20), hodge int64 (N, 4) (-1 for Null / omitted), euler,
    is_product, ids, flag int8 (1 True, 0 False, -1 Null / omitted), n_entries (read),
    n_products (read). Raises DataError naming ``name``, the entry number, its ID and line.
    """
    if isinstance(stream, str):
        stream = stream.encode()
    if isinstance(stream, (bytes, bytearray)):
        stream = io.BytesIO(bytes(stream))
    scanner = _ListScanner(name, drop_products)
    pending = b""
    first = True
    while True:
        chunk = stream.read(chunk_bytes)
        if first and chunk.startswith(b"\xef\xbb\xbf"):  # UTF-8 byte order mark
            chunk = chunk[3:]
        first = False
        if not chunk:
            break
        pending = scanner.feed(pending + chunk)
    scanner.finish(pending)
    return scanner.result()


class _ListScanner:
    """State between chunks: nesting depth, entries and lines already consumed, results."""

    def __init__(self, name: str, drop_products: bool):
        self.name, self.drop = name, drop_products
        self.depth = 0  # 0 before the list's "{", 1 inside it between entries
        self.entries = 0  # entries parsed so far
        self.lines = 0  # newlines consumed so far
        self.closed = False  # the list's closing "}" has been seen
        self.last_id = None
        self.n_products = 0
        self.parts = []

    # -- errors
    def _fail(self, problem: str, entry: int | None = None, entry_id=None, line: int | None = None):
        where = []
        if entry is not None:
            where.append(f"entry {entry}" + (f" (ID {entry_id})" if entry_id is not None else ""))
        if line is not None:
            where.append(f"line {line}")
        raise DataError(f"{self.name}: {', '.join(where) + ': ' if where else ''}{problem}")

    def _line_at(self, a: np.ndarray, pos: int) -> int:
        return self.lines + int(np.count_nonzero(a[:pos] == 10)) + 1

    # -- chunks
    def feed(self, buf: bytes) -> bytes:
        """Parse the complete entries in ``buf``; return the unparsed tail."""
        if b"\\" in buf:  # Mathematica's line continuation inside a long token
            buf = re.sub(rb"\\\r?\n", b"", buf)
        a = np.frombuffer(buf, np.uint8)
        if self.closed:
            self._check_trailing(a)
            return b""
        brace = np.flatnonzero((a == 123) | (a == 125))  # "{" or "}"
        opening = a[brace] == 123
        depth = self.depth + np.cumsum(np.where(opening, 1, -1))  # depth after each brace
        if len(depth) and depth.min() < 0:
            pos = int(brace[np.argmax(depth < 0)])
            self._fail("unmatched '}' after the end of the list", line=self._line_at(a, pos))
        ends = np.flatnonzero((depth <= 1) & ~opening)  # closing an entry (-> 1) or the list (-> 0)
        if len(ends) == 0:
            if len(a) > _MAX_ENTRY_BYTES:
                self._unterminated(a, "is not closed within 1 MiB (unbalanced braces?)")
            return buf
        list_end = np.flatnonzero(depth[ends] == 0)
        last = int(ends[list_end[0]] if len(list_end) else ends[-1])
        cut = int(brace[last]) + 1
        self._parse_region(a[:cut], brace[:last + 1], opening[:last + 1], depth[:last + 1])
        self.lines += int(np.count_nonzero(a[:cut] == 10))
        if len(list_end):
            self.closed = True
            self._check_trailing(a[cut:])
            return b""
        self.depth = 1
        return buf[cut:]

    def _check_trailing(self, rest: np.ndarray):
        """Only whitespace may follow the list's closing brace."""
        junk = np.flatnonzero(~np.isin(rest, (32, 9, 10, 13)))
        if len(junk):
            pos = int(junk[0])
            self._fail(f"unexpected text after the end of the list: {bytes(rest[pos:pos + 20])!r}",
                       line=self._line_at(rest, pos))
        self.lines += int(np.count_nonzero(rest == 10))

    def finish(self, tail: bytes):
        """End of input: complain about a truncated entry or an unclosed list."""
        if self.closed:
            if self.entries == 0:
                self._fail("the list holds no entries")
            return
        a = np.frombuffer(tail, np.uint8)
        is_open, is_close = a == 123, a == 125
        brace = np.flatnonzero(is_open | is_close)
        depth = self.depth + np.cumsum(np.where(is_open[brace], 1, -1))
        if ((depth >= 2) & is_open[brace]).any():
            self._unterminated(a, "is truncated: the file ends inside it")
        junk = np.flatnonzero(~np.isin(a, (32, 9, 10, 13, 44, 123)))
        if len(junk):
            self._fail(f"unexpected text {bytes(a[junk[0]:junk[0] + 20])!r}", line=self._line_at(a, int(junk[0])))
        if self.entries == 0:
            self._fail("truncated: the list holds no entries" if len(brace) else "no list found (empty file?)")
        self._fail(f"truncated: the list is not closed after entry {self.entries} (ID {self.last_id})")

    def _unterminated(self, a: np.ndarray, what: str):
        """Error for the entry starting in ``a`` that never closes."""
        opens = np.flatnonzero(a == 123)
        start = int(opens[1] if self.depth == 0 and len(opens) > 1 else opens[0]) if len(opens) else 0
        match = re.match(rb"\{\s*(-?\d+)", bytes(a[start:start + 40]))
        entry_id = int(match.group(1)) if match else None
        self._fail(f"entry {what}" + (f" (previous entry: ID {self.last_id})" if self.last_id is not None else ""),
                   entry=self.entries + 1, entry_id=entry_id, line=self._line_at(a, start))

    # -- one region of complete entries
    def _parse_region(self, r, brace, opening, depth):
        """Parse bytes ``r`` holding complete entries (braces at ``brace``, depth after each)."""
        # tokens: maximal runs of non-delimiter bytes
        is_comma = r == 44
        delim = is_comma | (r == 32) | (r == 10) | (r == 123) | (r == 125) | (r == 13) | (r == 9)
        edge = np.diff(delim.view(np.int8), prepend=np.int8(1), append=np.int8(1))
        start, stop = np.flatnonzero(edge == -1), np.flatnonzero(edge == 1)
        too_deep = opening & (depth > 4)
        if too_deep.any():
            self._fail_at(r, int(brace[np.argmax(too_deep)]), brace, opening, depth, "lists nested too deep")
        entry_open = opening & (depth == 2)
        if not entry_open.any():
            if len(start):
                self._fail_at(r, int(start[0]), brace, opening, depth, "unexpected text outside an entry: "
                              + repr(bytes(r[start[0]:min(stop[0], start[0] + 30)]).decode("utf-8", "replace")))
            return
        kinds, values, degree_ok = self._tokens(r, delim, start, stop, brace, opening, depth)
        g = self._groups(r, brace, opening, depth, start, stop)
        g.kinds, g.values = kinds, values
        self._check_layout(r, g)
        kind, value = self._field_table(g)
        self._matrix_rows(g, degree_ok)
        self._check_entries(r, g, kind, value, is_comma)

        conf = np.zeros((g.n_entries, N_ROWS, N_COLS), np.int8)
        conf.reshape(-1)[g.m_rank + np.repeat(g.row_base, g.row_len)] = values[g.m_tok]
        k_prod, k_eul = kind[:, 5], kind[:, 4]
        hodge_kind, flag_kind = kind[:, 6:10], kind[:, 10]
        is_product = k_prod == _TRUE
        keep = ~is_product if self.drop else slice(None)
        self.parts.append({
            "conf": conf[keep], "hodge": np.where(hodge_kind == _NUM, value[:, 6:10], -1)[keep],
            "euler": np.where(k_eul == _NUM, value[:, 4], -1)[keep],
            "is_product": is_product[keep], "ids": value[:, 0][keep],
            "flag": np.select([flag_kind == _TRUE, flag_kind == _FALSE], [1, 0], -1).astype(np.int8)[keep],
        })
        self.n_products += int(np.count_nonzero(is_product))
        self.entries += g.n_entries
        self.last_id = int(value[-1, 0])

    def _groups(self, r, brace, opening, depth, start, stop) -> SimpleNamespace:
        """Structure from the braces: entry (depth 2), matrix (3) and row (4) groups; a brace's
        token count (tokens before it) turns groups into token ranges."""
        g = SimpleNamespace()
        entry_open = opening & (depth == 2)
        g.n_entries = int(np.count_nonzero(entry_open))
        tokens_before = np.searchsorted(start, brace)
        close = ~opening
        g.open_pos, g.close_pos = brace[entry_open], brace[close & (depth == 1)]
        g.tok_a, g.tok_b = tokens_before[entry_open], tokens_before[close & (depth == 1)]
        b_entry = np.cumsum(entry_open) - 1  # entry of every brace
        mat_open, row_open = opening & (depth == 3), opening & (depth == 4)
        g.n_mat = np.bincount(b_entry[mat_open], minlength=g.n_entries)
        g.n_rows = np.bincount(b_entry[row_open], minlength=g.n_entries)
        if (g.tok_b - g.tok_a).sum() != len(start):  # a token between entries
            inside = np.zeros(len(start) + 1, np.int64)
            np.add.at(inside, g.tok_a, 1)
            np.add.at(inside, g.tok_b, -1)
            k = int(np.argmax(np.cumsum(inside)[:-1] == 0))
            self._fail_at(r, int(start[k]), brace, opening, depth, "value outside an entry: "
                          + repr(bytes(r[start[k]:min(stop[k], start[k] + 30)]).decode("utf-8", "replace")))
        g.mat_a, g.mat_b = tokens_before[mat_open], tokens_before[close & (depth == 2)]
        g.row_entry = b_entry[row_open]
        g.row_a = tokens_before[row_open].astype(np.int64)
        g.row_len = tokens_before[close & (depth == 3)] - g.row_a
        g.row_first = np.concatenate(([0], np.cumsum(g.n_rows)))  # first row of each entry
        g.len_cum = np.concatenate(([0], np.cumsum(g.row_len)))
        g.n_mtok = g.len_cum[g.row_first[1:]] - g.len_cum[g.row_first[:-1]]
        return g

    def _entry_error(self, r, g, e, problem):
        """Fail on entry ``e`` of the region (its ID when it has one, the line of its opening brace)."""
        self._fail(problem, entry=self.entries + e + 1,
                   entry_id=int(g.values[g.tok_a[e]]) if g.tok_b[e] > g.tok_a[e] and g.kinds[g.tok_a[e]] == _NUM else None,
                   line=self._line_at(r, int(g.open_pos[e])))

    def _check_layout(self, r, g) -> None:
        """One degree matrix per entry, a list of rows, as field 4 of the layout (sets ``before``,
        ``after`` and ``n_items``: the fields before and after the matrix, and all of them)."""
        if (g.n_mat != 1).any():
            e = int(np.argmax(g.n_mat != 1))
            self._entry_error(r, g, e, f"has {g.n_mat[e]} degree matrices {{{{..}}}}, expected one as field 4 of {_LAYOUT}")
        stray = (g.mat_b - g.mat_a) != g.n_mtok
        if stray.any():
            self._entry_error(r, g, int(np.argmax(stray)), "the degree matrix must be a list of rows {{..}, {..}}")
        g.before, g.after = g.mat_a - g.tok_a, g.tok_b - g.mat_b
        g.n_items = g.before + 1 + g.after
        layout = (g.before != 3) | ~np.isin(g.after, (2, 3, 6, 7))
        if layout.any():
            e = int(np.argmax(layout))
            where = f"the degree matrix is field {g.before[e] + 1}" if g.before[e] != 3 else f"it has {g.n_items[e]} fields"
            self._entry_error(r, g, e, f"{where}; expected {_LAYOUT} (6, 7 or 10 fields without Hodge numbers / flag)")

    @staticmethod
    def _field_table(g):
        """Scalar fields -> (kind, value) tables in the 11-field layout."""
        kind = np.zeros((g.n_entries, 11), np.int8)
        value = np.zeros((g.n_entries, 11), np.int64)
        for j in range(3):
            kind[:, j], value[:, j] = g.kinds[g.tok_a + j], g.values[g.tok_a + j]
        after = g.after
        s_entry = np.repeat(np.arange(g.n_entries), after)
        s_ord = np.arange(len(s_entry)) - np.repeat(np.cumsum(after) - after, after)
        s_tok = g.mat_b[s_entry] + s_ord
        field = np.where((after[s_entry] == 3) & (s_ord == 2), 10, 4 + s_ord)  # {.., isProduct, flag}
        kind[s_entry, field], value[s_entry, field] = g.kinds[s_tok], g.values[s_tok]
        return kind, value

    @staticmethod
    def _matrix_rows(g, degree_ok) -> None:
        """Rows of the degree matrices: lengths per entry (``n_cols``, ``ragged``, ``empty_row``), bad
        degrees, and where each matrix token goes (token index ``m_tok``, flat index into conf)."""
        row_entry, row_len, len_cum = g.row_entry, g.row_len, g.len_cum
        g.n_cols = np.zeros(g.n_entries, np.int64)
        has_rows = g.n_rows > 0
        g.n_cols[has_rows] = row_len[g.row_first[:-1][has_rows]]
        g.ragged = np.zeros(g.n_entries, bool)
        g.ragged[row_entry[row_len != g.n_cols[row_entry]]] = True
        g.empty_row = np.zeros(g.n_entries, bool)
        g.empty_row[row_entry[row_len == 0]] = True
        # matrix tokens, row after row: token index and flat index into conf
        row_shift = g.row_a - len_cum[:-1]
        row_in_entry = np.arange(len(g.row_a)) - g.row_first[row_entry]
        g.row_base = (row_entry * N_ROWS + np.minimum(row_in_entry, N_ROWS - 1)) * N_COLS - len_cum[:-1]
        g.m_rank = np.arange(len_cum[-1])
        g.m_tok = g.m_rank + np.repeat(row_shift, row_len)
        g.bad_degree = np.zeros(g.n_entries, bool)
        not_ok = np.flatnonzero(~degree_ok[g.m_tok])
        if len(not_ok):  # rare: find the rows, then the entries
            g.bad_degree[row_entry[np.searchsorted(len_cum, not_ok, side="right") - 1]] = True

    def _check_entries(self, r, g, kind, value, is_comma) -> None:
        """Fail on the first entry with a field of the wrong kind, a bad matrix or misplaced commas."""
        commas = np.flatnonzero(is_comma)
        n_commas = np.searchsorted(commas, g.close_pos) - np.searchsorted(commas, g.open_pos)
        n_rows, n_cols = g.n_rows, g.n_cols
        k_prod, k_eul = kind[:, 5], kind[:, 4]
        hodge_kind, flag_kind = kind[:, 6:10], kind[:, 10]
        checks = [
            ((kind[:, 0] != _NUM) | (kind[:, 1] != _NUM) | (kind[:, 2] != _NUM),
             lambda e: "ID, rows and cols must be integers"),
            (~np.isin(k_eul, (_NUM, _NULL)), lambda e: "the Euler number (field 5) must be an integer"),
            (~np.isin(k_prod, (_TRUE, _FALSE)), lambda e: "isProduct (field 6) must be True or False"),
            (~np.isin(hodge_kind, (_NUM, _NULL, _ABSENT)).all(axis=1),
             lambda e: "Hodge numbers (fields 7-10) must be integers or Null"),
            (~np.isin(flag_kind, (_TRUE, _FALSE, _NULL, _ABSENT)),
             lambda e: "the last field must be True, False or Null"),
            (n_rows == 0, lambda e: "empty degree matrix"),
            (g.empty_row, lambda e: "empty row in the degree matrix"),
            (g.bad_degree, lambda e: "the degree matrix holds a value that is not a degree 0..127"),
            (g.ragged, lambda e: "rows of the degree matrix differ in length"),
            ((n_rows > N_ROWS) | (n_cols > N_COLS),
             lambda e: f"degree matrix is {n_rows[e]} x {n_cols[e]}, more than {N_ROWS} x {N_COLS}"),
            ((value[:, 1] != n_rows) | (value[:, 2] != n_cols),
             lambda e: f"declares {value[e, 1]} rows x {value[e, 2]} cols but the matrix is {n_rows[e]} x {n_cols[e]}"),
            (n_commas != g.n_items + g.n_mtok - 2, lambda e: "misplaced or missing ',' (commas do not match the fields)"),
        ]
        bad = np.zeros(g.n_entries, bool)
        for mask, _ in checks:
            bad |= mask
        if bad.any():
            e = int(np.argmax(bad))
            self._entry_error(r, g, e, next(message(e) for mask, message in checks if mask[e]))

    def _fail_at(self, r, pos, brace, opening, depth, problem):
        """Error at byte ``pos`` of ``r``, naming the entry that holds it (if any)."""
        before = brace < pos
        entry_opens = np.flatnonzero(before & opening & (depth == 2))
        inside = len(entry_opens) and (depth[before][-1] >= 2 or not (~opening[before])[-1])
        if not inside:
            self._fail(problem, line=self._line_at(r, pos))
        start = int(brace[entry_opens[-1]])
        match = re.match(rb"\{\s*(-?\d+)", bytes(r[start:start + 40]))
        self._fail(problem, entry=self.entries + len(entry_opens), entry_id=int(match.group(1)) if match else None,
                   line=self._line_at(r, pos))

    def _tokens(self, r, delim, start, stop, brace, opening, depth):
        """Kind, integer value and "is a degree 0..127" of every token; DataError on bad tokens."""
        length = stop - start
        last = stop - 1
        value = r[last].astype(np.int64) - 48  # right for the many one-digit tokens
        kind = np.full(len(start), _NUM, np.int8)
        # tokens with a non-digit first or last byte: True/False/Null, negative numbers, garbage
        special = np.flatnonzero(((r[start] - np.uint8(48)) > 9) | ((r[last] - np.uint8(48)) > 9))
        n_odd_explained = 0
        negative = special[:0]
        if len(special):
            s_len = length[special]
            width = np.arange(5)
            pos = np.minimum(start[special, None] + width, len(r) - 1)
            chars = np.where(width < s_len[:, None], r[pos], 0).astype(np.uint64)
            packed = (chars << (np.uint64(8) * width.astype(np.uint64))).sum(axis=1)
            codes = np.full(len(special), _BAD, np.int8)
            for word_packed, code in _PACKED_WORDS.items():
                codes[(packed == np.uint64(word_packed)) & (s_len <= 5)] = code
            minus = (r[start[special]] == 45) & ((r[last[special]] - np.uint8(48)) <= 9) & (s_len >= 2)
            codes[minus] = _NUM
            negative = special[minus]
            kind[special] = codes
            n_odd_explained = int(s_len[(codes != _NUM) & (codes != _BAD)].sum() + len(negative)
                                  + s_len[codes == _BAD].sum())
        # every other non-digit byte sits inside a token that looked numeric ("1.5"): find it
        is_other = ~delim & ((r - np.uint8(48)) > 9)
        if np.count_nonzero(is_other) != n_odd_explained:
            odd = np.flatnonzero(is_other)
            owner = np.searchsorted(start, odd, side="right") - 1
            words = (kind != _NUM) & (kind != _BAD)
            explained = words[owner] | (kind[owner] == _BAD) | ((kind[owner] == _NUM) & (odd == start[owner]))
            kind[owner[~explained]] = _BAD
        multi = np.flatnonzero(length > 1)
        multi = multi[kind[multi] == _NUM]
        n_digits = length[multi] - np.isin(multi, negative)
        kind[multi[n_digits > 18]] = _BAD
        if (kind[special] == _BAD).any() or (kind == _BAD).any():
            k = int(np.argmax(kind == _BAD))
            text = bytes(r[start[k]:min(stop[k], start[k] + 30)]).decode("utf-8", "replace")
            self._fail_at(r, int(start[k]), brace, opening, depth,
                          f"bad token {text!r} (expected an integer, True, False or Null)")
        for k in range(1, int(n_digits.max(initial=1))):
            sel = multi[n_digits > k]
            value[sel] += (r[last[sel] - k].astype(np.int64) - 48) * 10 ** k
        value[negative] *= -1
        # degrees: one-digit tokens, or numbers 10..127
        degree_ok = length == 1
        degree_ok[multi] = (value[multi] >= 0) & (value[multi] <= 127)
        return kind, value, degree_ok

    def result(self) -> dict:
        keys = ("conf", "hodge", "euler", "is_product", "ids", "flag")
        if self.parts:
            out = {k: np.concatenate([p[k] for p in self.parts]) for k in keys}
        else:
            out = {"conf": np.zeros((0, N_ROWS, N_COLS), np.int8), "hodge": np.zeros((0, 4), np.int64),
                   "euler": np.zeros(0, np.int64), "is_product": np.zeros(0, bool),
                   "ids": np.zeros(0, np.int64), "flag": np.zeros(0, np.int8)}
        out["hodge"] = out["hodge"].astype(np.int64)
        out["n_entries"], out["n_products"] = self.entries, self.n_products
        return out
