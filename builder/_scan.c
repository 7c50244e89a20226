/* builder._scan: the batch screens and near-duplicate sketches of builder/screens.py in one
 * pass over each text (`scan`), and the screen of the other rules, rules.others_may_report,
 * for a batch of records (`others`), the corpus checks' text hashes (`hashes`), and, for the
 * build, where a JSONL line holds a string value as orjson writes it (`string_value`), a
 * record's release line made from its input line (`release_line`, and `release_lines` for
 * many lines of a file) and the bodies of JSONL
 * lines read apart from the rest (`split_string`), in C.
 *
 * builder/screens.py and builder/rules.py hold the definitions (the numpy and Python code,
 * which the test suite compares this module against); this is the same computation, text by
 * text, reading the code points where Python stores them. The class table, the bracket pairs,
 * the class bits, the role words and every threshold come from Python, so no definition is
 * repeated here, only the steps.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* The class bits, in the order of `screens.SCAN_BITS`. */
enum { B_CJK, B_PUNCT, B_SPACE, B_LATIN, B_HALF, B_BRACKET, B_BAD, B_MARKER, B_NFC, B_NEWLINE,
       B_STOP, B_CLOSER, B_OPENS, B_WHITE, B_COUNT };

/* The rules, in the order of `screens.BATCHED`. */
enum { R_C101, R_C103, R_C104, R_C201, R_C202, R_C203, R_C204, R_C209, R_C105, R_C205, R_COUNT };

typedef struct {
    const uint16_t *table;   /* class bits of every code point (0x110000 entries) */
    const uint8_t *pairs;    /* bracket pair number | OPENS, for the BMP */
    uint16_t bit[B_COUNT];
    Py_ssize_t max_byline;
    Py_ssize_t short_body;   /* C205: fewer characters not white among the first short_body * 4 */
    /* the sketch */
    uint32_t *sketch;        /* rows of `bins` values, or NULL */
    Py_ssize_t bins, shingle, sample;
    Py_UCS4 sample_mask;     /* sample - 1: sample is a power of two */
    unsigned bin_bits;
    const uint32_t *weights;
    uint16_t looked_at;      /* the bits of the characters `scan_text` stops at */
} Params;

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t n;
} Text;

/* The functions below take the text's kind as a constant (see `scan_any`), so that each is
 * compiled once per kind of string with a plain array read in its loop. */
#define INLINE static inline __attribute__((always_inline))
#define cls(p, t, i) cls_of(p, t, i, kind)
#define code(t, i) PyUnicode_READ(kind, (t)->data, (i))

INLINE uint16_t cls_of(const Params *p, const Text *t, Py_ssize_t i, const int kind)
{
    /* the class bits at a position, 0 outside the text (as at a line's end in screens.Batch.at) */
    return (i >= 0 && i < t->n) ? p->table[code(t, i)] : 0;
}

static inline uint32_t mix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

/* The sketch of one text (screens.Batch.sketches). The anchors are gathered without a branch
 * first, a block at a time, then hashed in a tight loop. */
INLINE void sketch_text(const Params *p, const Text *t, uint32_t *row, const int kind)
{
    enum { BLOCK = 1024 };
    Py_ssize_t anchors[BLOCK];
    for (Py_ssize_t b = 0; b < p->bins; b++) row[b] = 0xFFFFFFFFu;
    Py_ssize_t last = t->n - p->shingle; /* an anchor at or before it has a whole shingle */
    const uint32_t *w = p->weights;
    for (Py_ssize_t start = 0; start < t->n; start += BLOCK) {
        Py_ssize_t stop = start + BLOCK < t->n ? start + BLOCK : t->n, found = 0;
        for (Py_ssize_t i = start; i < stop; i++) {
            Py_UCS4 c = code(t, i);
            anchors[found] = i;
            found += (c & p->sample_mask) == 0 && i <= last;
        }
        for (Py_ssize_t a = 0; a < found; a++) {
            Py_ssize_t i = anchors[a];
            uint32_t h = 0;
            if (p->shingle == 5) /* neardup.SHINGLE, unrolled */
                h = (uint32_t)code(t, i) * w[0] + (uint32_t)code(t, i + 1) * w[1] +
                    (uint32_t)code(t, i + 2) * w[2] + (uint32_t)code(t, i + 3) * w[3] +
                    (uint32_t)code(t, i + 4) * w[4];
            else
                for (Py_ssize_t j = 0; j < p->shingle; j++) h += (uint32_t)code(t, i + j) * w[j];
            h = mix32(h);
            uint32_t *slot = row + (h & (uint32_t)(p->bins - 1));
            uint32_t value = h >> p->bin_bits;
            *slot = value < *slot ? value : *slot; /* no branch: a new minimum is unpredictable */
        }
    }
}

/* Is the space at i a stray one (screens.stray_spaces' candidates)? */
INLINE int stray_candidate(const Params *p, const Text *t, Py_ssize_t i, const int kind)
{
    uint16_t before = cls(p, t, i - 1), after = cls(p, t, i + 1);
    uint16_t cjk = p->bit[B_CJK], latin = p->bit[B_LATIN];
    return ((before | after) & p->bit[B_PUNCT]) || ((before & cjk) && (after & latin)) ||
           ((before & latin) && (after & cjk));
}

/* The rules raised for one text (a mask of R_ bits among `wanted`); stray-space candidates are
 * appended to `candidates` as (index, offset) when C209 is wanted and not raised already. */
INLINE int scan_text(const Params *p, const Text *t, unsigned wanted, Py_ssize_t index,
                     PyObject *candidates, unsigned *out, const int kind)
{
    const uint16_t *bit = p->bit;
    unsigned raised = 0;
    Py_ssize_t line_start = 0, marks = 0, unended = 0;
    unsigned previous_pair = 0;
    Py_ssize_t first_candidate = PyList_GET_SIZE(candidates);
    const uint16_t *table = p->table, looked_at = p->looked_at;
    const Py_ssize_t n = t->n;
    if (wanted & ((1u << R_C105) | (1u << R_C205))) { /* screens.short_bodies */
        Py_ssize_t end = n < 4 * p->short_body ? n : 4 * p->short_body, solid = 0;
        for (Py_ssize_t i = 0; i < end; i++) solid += !(table[code(t, i)] & bit[B_WHITE]);
        if (solid < p->short_body) raised |= (1u << R_C105) | (1u << R_C205);
    }
    for (Py_ssize_t i = 0;; i++) {
        uint16_t k = 0;
        while (i < n && !((k = table[code(t, i)]) & looked_at)) i++; /* most characters */
        if (i >= n) k = bit[B_NEWLINE]; /* the text ends a line */
        if (k & bit[B_NEWLINE]) {
            if (marks % 2) raised |= 1u << R_C203; /* a line that ends after an opener */
            if (i - line_start <= p->max_byline) raised |= 1u << R_C103;
            if (i < n) {
                uint16_t one = cls(p, t, i - 1), two = cls(p, t, i - 2);
                int ends = (one & bit[B_STOP]) || ((one & bit[B_CLOSER]) && (two & bit[B_STOP]));
                if (!ends && ++unended >= 2) raised |= 1u << R_C101;
            }
            if (i >= n) break;
            line_start = i + 1;
            marks = 0;
            continue;
        }
        if (k & bit[B_BAD]) raised |= 1u << R_C104;
        if (k & bit[B_NFC]) raised |= 1u << R_C204;
        if (k & bit[B_MARKER]) raised |= 1u << R_C103;
        if (k & bit[B_HALF]) {
            if ((cls(p, t, i - 1) | cls(p, t, i + 1)) & (bit[B_CJK] | bit[B_PUNCT])) raised |= 1u << R_C202;
        }
        if (k & bit[B_BRACKET]) {
            Py_UCS4 c = code(t, i);
            unsigned entry = p->pairs[c < 0x10000 ? c : 0xFFFF];
            unsigned pair = entry & ~(unsigned)bit[B_OPENS], opener = (entry & bit[B_OPENS]) != 0;
            if (marks % 2 == 0 ? !opener : (opener || pair != previous_pair)) raised |= 1u << R_C203;
            previous_pair = pair;
            marks++;
        }
        if (k & bit[B_SPACE]) {
            if (cls(p, t, i - 1) & bit[B_SPACE]) raised |= (1u << R_C201) | (1u << R_C209); /* a run */
            if ((cls(p, t, i - 1) & bit[B_CJK]) && (cls(p, t, i + 1) & bit[B_CJK]) &&
                (!(cls(p, t, i - 2) & bit[B_CJK]) || !(cls(p, t, i + 2) & bit[B_CJK])))
                raised |= 1u << R_C201;
            if ((wanted & (1u << R_C209)) && stray_candidate(p, t, i, kind)) {
                PyObject *pair = Py_BuildValue("(nn)", index, i);
                if (pair == NULL || PyList_Append(candidates, pair) < 0) {
                    Py_XDECREF(pair);
                    return -1;
                }
                Py_DECREF(pair);
            }
        }
    }
    raised &= wanted;
    if (raised & (1u << R_C209)) /* raised already: no candidate needs a closer look */
        if (PyList_SetSlice(candidates, first_candidate, PyList_GET_SIZE(candidates), NULL) < 0) return -1;
    *out = raised;
    return 0;
}

/* One text: its screens, then its sketch, compiled for its kind of string. */
static int scan_any(const Params *p, const Text *t, unsigned wanted, Py_ssize_t index,
                    PyObject *candidates, unsigned *out)
{
    uint32_t *row = p->sketch != NULL ? p->sketch + index * p->bins : NULL;
#define SCAN_KIND(kind)                                                                   \
    if (scan_text(p, t, wanted, index, candidates, out, kind) < 0) return -1;             \
    if (row != NULL) sketch_text(p, t, row, kind);                                        \
    return 0;
    switch (t->kind) {
    case PyUnicode_1BYTE_KIND: SCAN_KIND(PyUnicode_1BYTE_KIND)
    case PyUnicode_2BYTE_KIND: SCAN_KIND(PyUnicode_2BYTE_KIND)
    default: SCAN_KIND(PyUnicode_4BYTE_KIND)
    }
#undef SCAN_KIND
}

static int scan_item(const Params *p, PyObject *item, unsigned wanted, Py_ssize_t index,
                     PyObject *candidates, unsigned *out)
{
    if (!PyUnicode_Check(item)) {
        PyErr_Format(PyExc_TypeError, "texts[%zd] is not a string", index);
        return -1;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(item) < 0) return -1;
#endif
    Text t = {PyUnicode_KIND(item), PyUnicode_DATA(item), PyUnicode_GET_LENGTH(item)};
    return scan_any(p, &t, wanted, index, candidates, out);
}

static int read_buffer(PyObject *obj, Py_buffer *view, Py_ssize_t min_bytes, int writable, const char *what)
{
    if (PyObject_GetBuffer(obj, view, writable ? PyBUF_WRITABLE : PyBUF_SIMPLE) < 0) return -1;
    if (view->len < min_bytes) {
        PyErr_Format(PyExc_ValueError, "%s: %zd bytes, at least %zd needed", what, view->len, min_bytes);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(scan_doc,
"scan(texts, table, pairs, bits, wanted, max_byline, short_body, masks, candidates, sketch, bins,\n"
"     shingle, sample, weights, fields)\n\n"
"For each text, the mask of the wanted rules its screens raise (written to `masks`, one uint16\n"
"each); stray-space candidates appended to `candidates`; sketches written to `sketch` (rows of\n"
"`bins` uint32) unless it is None. With `fields` (a tuple of names), each item of `texts` is a\n"
"record (a dict) and its text is those of its fields that are strings, one per line.\n"
"See builder/screens.py.");

static PyObject *scan(PyObject *self, PyObject *args)
{
    PyObject *texts, *table_obj, *pairs_obj, *bits, *masks_obj, *candidates, *sketch_obj, *weights_obj;
    PyObject *fields = Py_None;
    unsigned wanted;
    Params p;
    if (!PyArg_ParseTuple(args, "O!OOO!InnOO!OnnnO|O", &PyList_Type, &texts, &table_obj, &pairs_obj,
                          &PyTuple_Type, &bits, &wanted, &p.max_byline, &p.short_body, &masks_obj, &PyList_Type,
                          &candidates, &sketch_obj, &p.bins, &p.shingle, &p.sample, &weights_obj,
                          &fields))
        return NULL;
    /* a record's fields scanned one by one raise what their lines joined raise, for the rules
     * that look at one line at a time (screens.FIELD_RULES), not for those that count lines */
    unsigned whole_text = (1u << R_C101) | (1u << R_C105) | (1u << R_C205) | (1u << R_C209);
    if (fields != Py_None && (!PyTuple_Check(fields) || sketch_obj != Py_None || (wanted & whole_text))) {
        PyErr_SetString(PyExc_ValueError, "fields: a tuple of names, with no sketch, and line rules only");
        return NULL;
    }
    if (PyTuple_GET_SIZE(bits) != B_COUNT) {
        PyErr_Format(PyExc_ValueError, "bits: %d class bits expected", B_COUNT);
        return NULL;
    }
    for (int b = 0; b < B_COUNT; b++) {
        long value = PyLong_AsLong(PyTuple_GET_ITEM(bits, b));
        if (value == -1 && PyErr_Occurred()) return NULL;
        p.bit[b] = (uint16_t)value;
    }
    if (p.bins <= 0 || (p.bins & (p.bins - 1)) || p.shingle <= 0 || p.sample <= 0 || (p.sample & (p.sample - 1))) {
        PyErr_SetString(PyExc_ValueError, "bins and sample must be powers of two, shingle positive");
        return NULL;
    }
    p.sample_mask = (Py_UCS4)(p.sample - 1);
    p.looked_at = p.bit[B_NEWLINE] | p.bit[B_BAD] | p.bit[B_NFC] | p.bit[B_MARKER] | p.bit[B_HALF] |
                  p.bit[B_BRACKET] | p.bit[B_SPACE];
    p.bin_bits = 0;
    while (((Py_ssize_t)1 << p.bin_bits) < p.bins) p.bin_bits++;
    Py_ssize_t n = PyList_GET_SIZE(texts);
    Py_buffer table, pairs, masks, weights, sketch = {0};
    if (read_buffer(table_obj, &table, 0x110000 * 2, 0, "table") < 0) return NULL;
    if (read_buffer(pairs_obj, &pairs, 0x10000, 0, "pairs") < 0) goto fail_table;
    if (read_buffer(masks_obj, &masks, n * 2, 1, "masks") < 0) goto fail_pairs;
    if (read_buffer(weights_obj, &weights, p.shingle * 4, 0, "weights") < 0) goto fail_masks;
    if (sketch_obj != Py_None && read_buffer(sketch_obj, &sketch, n * p.bins * 4, 1, "sketch") < 0)
        goto fail_weights;
    p.table = table.buf;
    p.pairs = pairs.buf;
    p.weights = weights.buf;
    p.sketch = sketch_obj != Py_None ? sketch.buf : NULL;
    uint16_t *out = masks.buf;
    int failed = 0;
    for (Py_ssize_t index = 0; index < n && !failed; index++) {
        PyObject *item = PyList_GET_ITEM(texts, index);
        unsigned raised = 0;
        if (fields == Py_None)
            failed = scan_item(&p, item, wanted, index, candidates, &raised) < 0;
        else if (!PyDict_Check(item)) {
            PyErr_Format(PyExc_TypeError, "texts[%zd] is not a dict", index);
            failed = 1;
        } else
            for (Py_ssize_t f = 0; f < PyTuple_GET_SIZE(fields) && !failed; f++) {
                /* each field is a line of the record's text: scanned alone, it raises the same */
                PyObject *value = PyDict_GetItemWithError(item, PyTuple_GET_ITEM(fields, f));
                unsigned found = 0;
                if (value == NULL && PyErr_Occurred()) failed = 1;
                else if (value != NULL && PyUnicode_Check(value))
                    failed = scan_item(&p, value, wanted, index, candidates, &found) < 0;
                raised |= found;
            }
        out[index] = (uint16_t)raised;
    }
    if (p.sketch != NULL) PyBuffer_Release(&sketch);
    PyBuffer_Release(&weights);
    PyBuffer_Release(&masks);
    PyBuffer_Release(&pairs);
    PyBuffer_Release(&table);
    if (failed) return NULL;
    Py_RETURN_NONE;
fail_weights:
    PyBuffer_Release(&weights);
fail_masks:
    PyBuffer_Release(&masks);
fail_pairs:
    PyBuffer_Release(&pairs);
fail_table:
    PyBuffer_Release(&table);
    return NULL;
}

/* --- rules.others_may_report, for the record whose byline is plain ----------------------- */

typedef struct {
    PyObject *titles;       /* rules.TITLE_FIELDS */
    Py_ssize_t long_headline;
    PyObject *spaces;       /* text.SPACES: what undouble strips */
    PyObject *roles;        /* bylines.ROLE_WORDS: role word -> credit */
    PyObject *role_starts;  /* bylines._ROLE_STARTS */
    Py_ssize_t max_name;
    PyObject *headline, *byline, *authors, *name, *role; /* the keys */
} Others;

static int is_space(const Others *o, Py_UCS4 c) { return PyUnicode_FindChar(o->spaces, c, 0, PyUnicode_GET_LENGTH(o->spaces), 1) >= 0; }

/* text.undouble(s[start:stop]) is not None: stripped of spaces, six or more characters whose two
 * halves are the same. */
static int doubled(const Others *o, PyObject *s, Py_ssize_t start, Py_ssize_t stop)
{
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    while (start < stop && is_space(o, PyUnicode_READ(kind, data, start))) start++;
    while (stop > start && is_space(o, PyUnicode_READ(kind, data, stop - 1))) stop--;
    Py_ssize_t n = stop - start, half = n / 2;
    if (n < 6 || n % 2) return 0;
    for (Py_ssize_t i = 0; i < half; i++)
        if (PyUnicode_READ(kind, data, start + i) != PyUnicode_READ(kind, data, start + half + i)) return 0;
    return 1;
}

/* rules.undouble_title(value) is not None: the title doubled, or one of its parts between spaces. */
static int doubled_title(const Others *o, PyObject *value)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(value), start = 0;
    if (doubled(o, value, 0, n)) return 1;
    int kind = PyUnicode_KIND(value);
    const void *data = PyUnicode_DATA(value);
    if (PyUnicode_FindChar(value, ' ', 0, n, 1) < 0) return 0;
    for (Py_ssize_t i = 0; i <= n; i++)
        if (i == n || PyUnicode_READ(kind, data, i) == ' ') {
            if (doubled(o, value, start, i)) return 1;
            start = i + 1;
        }
    return 0;
}

static int all_alpha(PyObject *s, Py_ssize_t start, Py_ssize_t stop)
{
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    for (Py_ssize_t i = start; i < stop; i++)
        if (!Py_UNICODE_ISALPHA(PyUnicode_READ(kind, data, i))) return 0;
    return stop > start;
}

/* The byline's part of others_may_report, when bylines.parse_plain parses it: 1 may report,
 * 0 not; -1 when parse_plain does not (the long way is Python's); -2 on an error. */
static int byline_may_report(const Others *o, PyObject *record, PyObject *line)
{
    enum { MOST = 64 };
    PyObject *names[MOST], *credits[MOST];
    Py_ssize_t count = 0, n = PyUnicode_GET_LENGTH(line), start = 0;
    int kind = PyUnicode_KIND(line), named = 1, empty = 0, result = -1, first = 1;
    const void *data = PyUnicode_DATA(line);
    PyObject *credit = NULL; /* borrowed from roles */
    for (Py_ssize_t i = 0; i <= n; i++) {
        if (i < n && PyUnicode_READ(kind, data, i) != ' ') continue;
        PyObject *token = PyUnicode_Substring(line, start, i);
        if (token == NULL) goto error;
        Py_ssize_t size = i - start;
        start = i + 1;
        PyObject *found = PyDict_GetItemWithError(o->roles, token); /* borrowed */
        if (found == NULL && PyErr_Occurred()) {
            Py_DECREF(token);
            goto error;
        }
        if (first && found == NULL) { /* not a byline parse_plain reads */
            Py_DECREF(token);
            goto done;
        }
        first = 0;
        if (found != NULL && size >= 2) {
            empty |= !named;
            credit = found;
            named = 0;
            Py_DECREF(token);
            continue;
        }
        int name = size >= 2 && size <= o->max_name && all_alpha(line, i - size, i);
        if (name) {
            PyObject *prefix = PyUnicode_Substring(line, i - size, i - size + 2);
            int role_like = prefix == NULL ? -1 : PySet_Contains(o->role_starts, prefix);
            Py_XDECREF(prefix);
            if (role_like < 0) {
                Py_DECREF(token);
                goto error;
            }
            name = !role_like;
        }
        if (!name || count == MOST) {
            Py_DECREF(token);
            goto done;
        }
        names[count] = token;
        credits[count++] = credit;
        named = 1;
    }
    empty |= !named;
    if (empty) { /* C106 */
        result = 1;
        goto done;
    }
    PyObject *authors = PyDict_GetItemWithError(record, o->authors);
    if (authors == NULL && PyErr_Occurred()) goto error;
    result = 0;
    if (authors == NULL || !PyList_Check(authors) || count == 0) goto done;
    if (PyList_GET_SIZE(authors) != count) { /* C207: bylines.same_authors */
        result = 1;
        goto done;
    }
    for (Py_ssize_t a = 0; a < count && !result; a++) {
        PyObject *given = PyList_GET_ITEM(authors, a);
        if (!PyDict_Check(given) || PyDict_GET_SIZE(given) != 2) {
            result = 1;
            break;
        }
        PyObject *pairs[2][2] = {{o->name, names[a]}, {o->role, credits[a]}};
        for (int f = 0; f < 2 && !result; f++) {
            PyObject *value = PyDict_GetItemWithError(given, pairs[f][0]);
            if (value == NULL && PyErr_Occurred()) goto error;
            int same = value == NULL ? 0 : PyObject_RichCompareBool(value, pairs[f][1], Py_EQ);
            if (same < 0) goto error;
            result = !same;
        }
    }
done:
    for (Py_ssize_t a = 0; a < count; a++) Py_DECREF(names[a]);
    return result;
error:
    for (Py_ssize_t a = 0; a < count; a++) Py_DECREF(names[a]);
    return -2;
}

/* others_may_report of one record: 1, 0, or -1 (ask Python), -2 on an error. */
static int record_may_report(const Others *o, PyObject *record)
{
    if (!PyDict_Check(record)) return -1;
    for (Py_ssize_t f = 0; f < PyTuple_GET_SIZE(o->titles); f++) { /* C102 */
        PyObject *value = PyDict_GetItemWithError(record, PyTuple_GET_ITEM(o->titles, f));
        if (value == NULL && PyErr_Occurred()) return -2;
        if (value != NULL && PyUnicode_Check(value) && PyUnicode_GET_LENGTH(value) >= 6 &&
            doubled_title(o, value))
            return 1;
    }
    PyObject *headline = PyDict_GetItemWithError(record, o->headline); /* C206 */
    if (headline == NULL && PyErr_Occurred()) return -2;
    if (headline != NULL && PyUnicode_Check(headline) && PyUnicode_GET_LENGTH(headline) > o->long_headline)
        return 1;
    PyObject *byline = PyDict_GetItemWithError(record, o->byline);
    if (byline == NULL && PyErr_Occurred()) return -2;
    if (byline == NULL || !PyUnicode_Check(byline)) return 0;
    return byline_may_report(o, record, byline);
}

PyDoc_STRVAR(others_doc,
"others(records, answers, titles, long_headline, spaces, roles, role_starts, max_name)\n\n"
"rules.others_may_report of each record, written to `answers` (one int8 each): 1 or 0, or -1\n"
"where the record's byline is not one bylines.parse_plain reads (Python then decides).");

static PyObject *others(PyObject *self, PyObject *args)
{
    PyObject *records, *answers_obj;
    Others o;
    if (!PyArg_ParseTuple(args, "O!OO!nUO!O!n", &PyList_Type, &records, &answers_obj, &PyTuple_Type,
                          &o.titles, &o.long_headline, &o.spaces, &PyDict_Type, &o.roles, &PySet_Type,
                          &o.role_starts, &o.max_name))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(records);
    Py_buffer answers;
    if (read_buffer(answers_obj, &answers, n, 1, "answers") < 0) return NULL;
    PyObject *keys[5] = {PyUnicode_FromString("headline"), PyUnicode_FromString("byline"),
                         PyUnicode_FromString("authors"), PyUnicode_FromString("name"),
                         PyUnicode_FromString("role")};
    int failed = 0;
    for (int k = 0; k < 5; k++) failed |= keys[k] == NULL;
    o.headline = keys[0], o.byline = keys[1], o.authors = keys[2], o.name = keys[3], o.role = keys[4];
    int8_t *out = answers.buf;
    for (Py_ssize_t i = 0; i < n && !failed; i++) {
        int answer = record_may_report(&o, PyList_GET_ITEM(records, i));
        failed = answer == -2;
        out[i] = (int8_t)answer;
    }
    for (int k = 0; k < 5; k++) Py_XDECREF(keys[k]);
    PyBuffer_Release(&answers);
    if (failed) return NULL;
    Py_RETURN_NONE;
}

/* --- validate.id_agrees, for a batch of records ------------------------------------------ */

/* 1 where validate.id_agrees(record) is true, 0 where it is false or this cannot tell (a page
 * label of more digits than a long long holds): 0 only ever sends a record to the closer look,
 * which finds the same diagnostics either way. -1 on an error. */
static int id_agrees_one(PyObject *record, PyObject *id_key, PyObject *date_key, PyObject *page_key)
{
    if (!PyDict_Check(record)) return 0;
    PyObject *id = PyDict_GetItemWithError(record, id_key);
    if (id == NULL && PyErr_Occurred()) return -1;
    PyObject *date = PyDict_GetItemWithError(record, date_key);
    if (date == NULL && PyErr_Occurred()) return -1;
    PyObject *page = PyDict_GetItemWithError(record, page_key);
    if (page == NULL && PyErr_Occurred()) return -1;
    if (id == NULL || date == NULL || !PyUnicode_Check(id) || !PyUnicode_Check(date)) return 0;
    if (PyUnicode_READY(id) < 0 || PyUnicode_READY(date) < 0) return -1;
    int ik = PyUnicode_KIND(id), dk = PyUnicode_KIND(date);
    const void *is = PyUnicode_DATA(id), *ds = PyUnicode_DATA(date);
    Py_ssize_t n = PyUnicode_GET_LENGTH(id), dn = PyUnicode_GET_LENGTH(date);
    /* id.rsplit("-", 3): the last three dashes part it into four */
    Py_ssize_t dash[3], found = 0;
    for (Py_ssize_t i = n - 1; i >= 0 && found < 3; i--)
        if (PyUnicode_READ(ik, is, i) == '-') dash[found++] = i;
    if (found < 3) return 0;
    /* parts[1], id[dash[2] + 1 : dash[1]], against the date without its dashes */
    Py_ssize_t at = dash[2] + 1;
    for (Py_ssize_t j = 0; j < dn; j++) {
        Py_UCS4 c = PyUnicode_READ(dk, ds, j);
        if (c == '-') continue;
        if (at >= dash[1] || PyUnicode_READ(ik, is, at) != c) return 0;
        at++;
    }
    if (at != dash[1]) return 0;
    if (page == NULL || !PyLong_Check(page) || PyBool_Check(page)) return 1;
    /* parts[2], the label: "p" and ASCII digits must give the page */
    Py_ssize_t start = dash[1] + 1, stop = dash[0];
    if (stop - start < 2 || PyUnicode_READ(ik, is, start) != 'p') return 1;
    long long label = 0;
    for (Py_ssize_t i = start + 1; i < stop; i++) {
        Py_UCS4 c = PyUnicode_READ(ik, is, i);
        if (c < '0' || c > '9') return 1; /* not a page label */
    }
    if (stop - start - 1 > 18) return 0;
    for (Py_ssize_t i = start + 1; i < stop; i++) label = label * 10 + (PyUnicode_READ(ik, is, i) - '0');
    int overflow = 0;
    long long value = PyLong_AsLongLongAndOverflow(page, &overflow);
    if (value == -1 && PyErr_Occurred()) return -1;
    return !overflow && value == label;
}

static PyObject *ids_agree(PyObject *self, PyObject *args)
{
    PyObject *records, *answers_obj;
    if (!PyArg_ParseTuple(args, "O!O", &PyList_Type, &records, &answers_obj)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(records);
    Py_buffer answers;
    if (read_buffer(answers_obj, &answers, n, 1, "answers") < 0) return NULL;
    PyObject *id_key = PyUnicode_FromString("id"), *date_key = PyUnicode_FromString("date"),
             *page_key = PyUnicode_FromString("page");
    int failed = id_key == NULL || date_key == NULL || page_key == NULL;
    int8_t *out = answers.buf;
    for (Py_ssize_t i = 0; i < n && !failed; i++) {
        int answer = id_agrees_one(PyList_GET_ITEM(records, i), id_key, date_key, page_key);
        failed = answer < 0;
        out[i] = (int8_t)answer;
    }
    Py_XDECREF(id_key);
    Py_XDECREF(date_key);
    Py_XDECREF(page_key);
    PyBuffer_Release(&answers);
    if (failed) return NULL;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(ids_agree_doc,
"ids_agree(records, answers)\n\n"
"validate.id_agrees of each record, written to `answers` (one int8 each): 1 where it is true,\n"
"0 where it is false or a page label is too long to read here (a closer look decides).");

/* --- runs.body_fragment: a string value of a JSONL line, as orjson would write it --------- */

static Py_ssize_t skip_blank(const unsigned char *s, Py_ssize_t i, Py_ssize_t n)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    return i;
}

/* The end (past the closing quote) of the JSON string that starts at s[i] == '"'; -1 if it
 * does not end. With `plain`, it is set to 0 where an escape is not the one orjson writes:
 * orjson escapes only '"', '\\' and U+0000..U+001F, those as \b \t \n \f \r or else as \u00xx
 * in lowercase hex, and writes every other character as its UTF-8. `escaped` counts escapes. */
static Py_ssize_t skip_string(const unsigned char *s, Py_ssize_t i, Py_ssize_t n, int *plain, int *escaped)
{
    const unsigned char *quote = NULL;
    for (i++; i < n;) {
        /* the next quote, and the next backslash before it: memchr runs through the text; the
         * quote is looked for again only when an escape has gone past it */
        if (quote == NULL || quote < s + i) quote = memchr(s + i, '"', (size_t)(n - i));
        Py_ssize_t stop = quote ? quote - s : n;
        const unsigned char *slash = memchr(s + i, '\\', (size_t)(stop - i));
        if (slash == NULL) return quote ? stop + 1 : -1;
        i = slash - s;
        if (escaped) (*escaped)++;
        if (i + 1 >= n) return -1;
        unsigned char e = s[i + 1];
        if (e == 'u') {
            if (i + 5 >= n) return -1;
            if (plain) {
                const unsigned char *h = s + i + 2;
                int low = (h[3] >= '0' && h[3] <= '9') ? h[3] - '0' : (h[3] >= 'a' && h[3] <= 'f') ? h[3] - 'a' + 10 : -1;
                int value = (h[0] == '0' && h[1] == '0' && (h[2] == '0' || h[2] == '1') && low >= 0) ? (h[2] - '0') * 16 + low : -1;
                if (value < 0 || value == 8 || value == 9 || value == 10 || value == 12 || value == 13) *plain = 0;
            }
            i += 6;
        } else {
            if (plain && e == '/') *plain = 0;
            i += 2;
        }
    }
    return -1;
}

/* The end of the JSON value that starts at s[i] (a string, an object, an array, or a number or
 * literal), -1 if it does not end. */
static Py_ssize_t skip_value(const unsigned char *s, Py_ssize_t i, Py_ssize_t n)
{
    if (i >= n) return -1;
    if (s[i] == '"') return skip_string(s, i, n, NULL, NULL);
    if (s[i] == '{' || s[i] == '[') {
        Py_ssize_t depth = 0;
        while (i < n) {
            unsigned char c = s[i];
            if (c == '"') {
                i = skip_string(s, i, n, NULL, NULL);
                if (i < 0) return -1;
                continue;
            }
            if (c == '{' || c == '[') depth++;
            else if (c == '}' || c == ']') {
                if (--depth == 0) return i + 1;
            }
            i++;
        }
        return -1;
    }
    while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') i++;
    return i;
}

/* A walk over the members of the JSON object of a line, for the functions below that look
 * for keys at its top level. */
typedef struct {
    const unsigned char *s;
    Py_ssize_t n, i;
} Members;

/* Start the walk: 0, or -1 where the line is not an object. */
static int members_start(Members *m, const unsigned char *s, Py_ssize_t n)
{
    m->s = s;
    m->n = n;
    m->i = skip_blank(s, 0, n);
    if (m->i >= n || s[m->i] != '{') return -1;
    m->i++;
    return 0;
}

/* The next member: its key's text (quotes excluded) at *key, *key_len bytes long, and where
 * its value starts. 1 for a member, 0 past the last, -1 where the object is broken or the key
 * has an escape (an escaped key could be any name). */
static int members_next(Members *m, Py_ssize_t *key, Py_ssize_t *key_len, Py_ssize_t *value)
{
    const unsigned char *s = m->s;
    Py_ssize_t n = m->n, i = skip_blank(s, m->i, n);
    if (i < n && s[i] == '}') return 0;
    if (i >= n || s[i] != '"') return -1;
    int escapes = 0;
    Py_ssize_t end = skip_string(s, i, n, NULL, &escapes);
    if (end < 0 || escapes) return -1;
    *key = i + 1;
    *key_len = end - i - 2;
    i = skip_blank(s, end, n);
    if (i >= n || s[i] != ':') return -1;
    *value = skip_blank(s, i + 1, n);
    return 1;
}

/* Past a member's value, which ends at `end` (-1 if it does not end): 1 where another member
 * follows (*comma is the comma before it), 0 at the object's end, -1 otherwise. */
static int members_after(Members *m, Py_ssize_t end, Py_ssize_t *comma)
{
    if (end < 0) return -1;
    Py_ssize_t i = skip_blank(m->s, end, m->n);
    if (i < m->n && m->s[i] == ',') {
        *comma = i;
        m->i = i + 1;
        return 1;
    }
    return (i < m->n && m->s[i] == '}') ? 0 : -1;
}

/* Where the string value of `key` is on one line s[0..n): the member's start and end (the
 * comma that parts it from its neighbour included, so that the line without it is still an
 * object) and the string's, quotes excluded. 0 when the line has the key once, unescaped, with a
 * string value; -1 otherwise. With `plain`, the walk over the string also says whether its
 * escapes are orjson's (skip_string). */
static int find_member(const unsigned char *s, Py_ssize_t n, const Py_buffer *key, Py_ssize_t *cut,
                       Py_ssize_t *cut_end, Py_ssize_t *text, Py_ssize_t *text_end, int *plain)
{
    Py_ssize_t at, at_len, value, comma = -1;
    Members m;
    int seen = 0, more = 1;
    if (members_start(&m, s, n) < 0) return -1;
    while (more) {
        int found = members_next(&m, &at, &at_len, &value);
        if (found <= 0) return found == 0 && seen ? 0 : -1;
        int is_key = at_len == key->len && memcmp(s + at, key->buf, (size_t)key->len) == 0;
        Py_ssize_t end, before = comma;
        if (is_key) {
            if (seen++ || value >= n || s[value] != '"') return -1;
            end = skip_string(s, value, n, plain, NULL);
            *text = value + 1;
            *text_end = end - 1;
            *cut = before >= 0 ? before : at - 1; /* the comma before, if it is not the first */
            *cut_end = end;
        } else {
            end = skip_value(s, value, n);
        }
        more = members_after(&m, end, &comma);
        if (more < 0) return -1;
        if (more && is_key && before < 0) *cut_end = comma + 1; /* the first: the comma after goes */
    }
    return seen ? 0 : -1;
}

static PyObject *string_value(PyObject *self, PyObject *args)
{
    Py_buffer line, key;
    if (!PyArg_ParseTuple(args, "y*y*", &line, &key)) return NULL;
    const unsigned char *s = (const unsigned char *)line.buf;
    Py_ssize_t cut, cut_end, text, text_end;
    int plain = 1, ok = find_member(s, line.len, &key, &cut, &cut_end, &text, &text_end, &plain) == 0;
    PyBuffer_Release(&line);
    PyBuffer_Release(&key);
    if (!ok || !plain) Py_RETURN_NONE;
    return Py_BuildValue("(nn)", text - 1, text_end + 1);
}

PyDoc_STRVAR(string_value_doc,
"string_value(line, key) -> (start, end) | None\n\n"
"Where the string value of `key` is in the JSON object of a line, quotes included, when the\n"
"object has that key once, unescaped, and the value is written as orjson writes that string;\n"
"None otherwise.");

/* --- runs.release_line: a JSONL line as the release writes its record ------------------- */

#define MAX_NAMES 64
#define MAX_DEPTH 32
#define MAX_KEYS 16 /* keys of a nested object whose repeats are looked for */
#define MAX_DIGITS 18 /* an integer of more digits may not fit in 64 bits */

/* Copy the JSON value at s[i] to out + *o as orjson writes what orjson.loads reads from it:
 * without the blanks, each string as it is where its escapes are those orjson writes
 * (`skip_string`), integers and literals as they are. The end of the value; -1 where the copy
 * would not be orjson's (another escape, a number that is not a plain integer, "-0", a key
 * twice in an object, one nested too deep) or the value does not end. */
static Py_ssize_t copy_value(const unsigned char *s, Py_ssize_t i, Py_ssize_t n, unsigned char *out,
                             Py_ssize_t *o, int depth)
{
    if (i >= n || depth > MAX_DEPTH) return -1;
    unsigned char c = s[i];
    if (c == '"') {
        int plain = 1;
        Py_ssize_t end = skip_string(s, i, n, &plain, NULL);
        if (end < 0 || !plain) return -1;
        memcpy(out + *o, s + i, (size_t)(end - i));
        *o += end - i;
        return end;
    }
    if (c == '[' || c == '{') {
        unsigned char close = c == '[' ? ']' : '}';
        Py_ssize_t key_at[MAX_KEYS], key_len[MAX_KEYS];
        int keys = 0;
        out[(*o)++] = c;
        i = skip_blank(s, i + 1, n);
        if (i < n && s[i] == close) { out[(*o)++] = close; return i + 1; }
        for (;;) {
            if (c == '{') {
                if (i >= n || s[i] != '"' || keys == MAX_KEYS) return -1;
                Py_ssize_t at = *o;
                i = copy_value(s, i, n, out, o, depth + 1);
                if (i < 0) return -1;
                /* with orjson's escapes only, equal keys are equal bytes */
                for (int k = 0; k < keys; k++)
                    if (key_len[k] == *o - at && memcmp(out + key_at[k], out + at, (size_t)(*o - at)) == 0) return -1;
                key_at[keys] = at;
                key_len[keys++] = *o - at;
                i = skip_blank(s, i, n);
                if (i >= n || s[i] != ':') return -1;
                out[(*o)++] = ':';
                i = skip_blank(s, i + 1, n);
            }
            i = copy_value(s, i, n, out, o, depth + 1);
            if (i < 0) return -1;
            i = skip_blank(s, i, n);
            if (i >= n) return -1;
            if (s[i] == close) { out[(*o)++] = close; return i + 1; }
            if (s[i] != ',') return -1;
            out[(*o)++] = ',';
            i = skip_blank(s, i + 1, n);
        }
    }
    static const char *const literals[] = {"true", "false", "null"};
    for (int k = 0; k < 3; k++) {
        size_t len = strlen(literals[k]);
        if ((size_t)(n - i) >= len && memcmp(s + i, literals[k], len) == 0) {
            memcpy(out + *o, literals[k], len);
            *o += (Py_ssize_t)len;
            return i + (Py_ssize_t)len;
        }
    }
    Py_ssize_t start = i;
    if (s[i] == '-') i++;
    Py_ssize_t digits = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    digits = i - digits;
    if (digits == 0 || digits > MAX_DIGITS || (digits > 1 && s[i - digits] == '0')) return -1;
    if (s[start] == '-' && digits == 1 && s[i - 1] == '0') return -1; /* -0 reads as 0 */
    if (i < n && (s[i] == '.' || s[i] == 'e' || s[i] == 'E')) return -1; /* a float */
    memcpy(out + *o, s + start, (size_t)(i - start));
    *o += i - start;
    return i;
}

/* The fields a release line has, in its order (a tuple of bytes from Python). */
typedef struct {
    Py_ssize_t count;
    const char *name[MAX_NAMES];
    Py_ssize_t len[MAX_NAMES];
} Names;

/* Read the names of a tuple of bytes: 0, or -1 with the error set. */
static int names_of(PyObject *tuple, Names *names)
{
    names->count = PyTuple_GET_SIZE(tuple);
    if (names->count > MAX_NAMES) {
        PyErr_SetString(PyExc_ValueError, "too many names");
        return -1;
    }
    for (Py_ssize_t k = 0; k < names->count; k++) {
        PyObject *item = PyTuple_GET_ITEM(tuple, k);
        if (!PyBytes_Check(item)) {
            PyErr_SetString(PyExc_TypeError, "names must be bytes");
            return -1;
        }
        names->name[k] = PyBytes_AS_STRING(item);
        names->len[k] = PyBytes_GET_SIZE(item);
    }
    return 0;
}

/* Write the release line of the line s[0..n) to `out`, without a newline: its size, or -1
 * where it is not sure (see release_line_doc). `out` and `values` (where the fields' values
 * are copied first) hold n bytes each: the release line is never longer than its line, as it
 * drops blanks and members and adds nothing that the members it keeps did not have. */
static Py_ssize_t release_into(const unsigned char *s, Py_ssize_t n, const Names *names,
                               unsigned char *values, unsigned char *out)
{
    Py_ssize_t at[MAX_NAMES], len[MAX_NAMES];
    int seen[MAX_NAMES];
    for (Py_ssize_t k = 0; k < names->count; k++) {
        seen[k] = 0;
        at[k] = -1;
    }
    Py_ssize_t o = 0, key, key_len, value, comma;
    Members m;
    int more = 1;
    if (members_start(&m, s, n) < 0) return -1;
    while (more) {
        int found = members_next(&m, &key, &key_len, &value);
        if (found < 0) return -1;
        if (found == 0) break;
        Py_ssize_t k = 0, end;
        while (k < names->count && !(names->len[k] == key_len && memcmp(s + key, names->name[k], (size_t)key_len) == 0)) k++;
        if (k == names->count) {
            end = skip_value(s, value, n); /* not a field: the record leaves it out */
        } else {
            if (seen[k]++) return -1; /* twice: which one counts is orjson's to say */
            Py_ssize_t start = o;
            end = copy_value(s, value, n, values, &o, 0);
            if (end >= 0 && !(o - start == 4 && memcmp(values + start, "null", 4) == 0)) {
                at[k] = start; /* a null field is left out, as an absent one */
                len[k] = o - start;
            }
        }
        more = members_after(&m, end, &comma);
        if (more < 0) return -1;
    }
    unsigned char *w = out;
    *w++ = '{';
    for (Py_ssize_t k = 0; k < names->count; k++) {
        if (at[k] < 0) continue;
        if (w > out + 1) *w++ = ',';
        *w++ = '"';
        memcpy(w, names->name[k], (size_t)names->len[k]);
        w += names->len[k];
        *w++ = '"';
        *w++ = ':';
        memcpy(w, values + at[k], (size_t)len[k]);
        w += len[k];
    }
    *w++ = '}';
    return w - out;
}

static PyObject *release_line(PyObject *self, PyObject *args)
{
    Py_buffer line;
    PyObject *tuple;
    Names names;
    if (!PyArg_ParseTuple(args, "y*O!", &line, &PyTuple_Type, &tuple)) return NULL;
    if (names_of(tuple, &names) < 0) {
        PyBuffer_Release(&line);
        return NULL;
    }
    Py_ssize_t n = line.len;
    unsigned char *values = PyMem_Malloc(n > 0 ? (size_t)n : 1);
    PyObject *result = PyBytes_FromStringAndSize(NULL, n > 2 ? n : 2);
    if (values == NULL || result == NULL) {
        PyMem_Free(values);
        Py_XDECREF(result);
        PyBuffer_Release(&line);
        return PyErr_NoMemory();
    }
    Py_ssize_t size = release_into((const unsigned char *)line.buf, n, &names, values,
                                   (unsigned char *)PyBytes_AS_STRING(result));
    PyMem_Free(values);
    PyBuffer_Release(&line);
    if (size < 0) {
        Py_DECREF(result);
        Py_RETURN_NONE;
    }
    if (_PyBytes_Resize(&result, size) < 0) return NULL;
    return result;
}

PyDoc_STRVAR(release_line_doc,
"release_line(line, names) -> bytes | None\n\n"
"The JSON object of a line as orjson writes the record build.plain makes of what orjson reads\n"
"from it: its fields among `names` (bytes) in that order, null ones left out, without blanks.\n"
"None where that is not sure: a field twice or with an escaped key, an escape orjson would not\n"
"write, a number that is not a plain integer, a key twice in a nested object.");

/* --- build.jsonl_table: one string field of JSONL lines, read without the JSON reader ------ */

static int hex4(const unsigned char *h)
{
    int v = 0;
    for (int k = 0; k < 4; k++) {
        unsigned char c = h[k];
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* The text of the JSON string s[i..end) (i past the opening quote, end at the closing one), as
 * UTF-8 at out; its length, or -1 for an escape JSON does not have or a lone surrogate, which
 * UTF-8 cannot hold. */
static Py_ssize_t unescape(const unsigned char *s, Py_ssize_t i, Py_ssize_t end, unsigned char *out)
{
    Py_ssize_t o = 0;
    while (i < end) {
        const unsigned char *slash = memchr(s + i, '\\', (size_t)(end - i));
        Py_ssize_t stop = slash ? slash - s : end;
        memcpy(out + o, s + i, (size_t)(stop - i));
        o += stop - i;
        i = stop;
        if (i >= end) break;
        if (i + 1 >= end) return -1;
        unsigned char e = s[i + 1], c;
        i += 2;
        switch (e) {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': {
            if (i + 4 > end) return -1;
            long cp = hex4(s + i);
            i += 4;
            if (cp < 0 || (cp >= 0xDC00 && cp <= 0xDFFF)) return -1;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (i + 6 > end || s[i] != '\\' || s[i + 1] != 'u') return -1;
                long low = hex4(s + i + 2);
                if (low < 0xDC00 || low > 0xDFFF) return -1;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                i += 6;
            }
            if (cp < 0x80) {
                out[o++] = (unsigned char)cp;
            } else if (cp < 0x800) {
                out[o++] = (unsigned char)(0xC0 | (cp >> 6));
                out[o++] = (unsigned char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                out[o++] = (unsigned char)(0xE0 | (cp >> 12));
                out[o++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                out[o++] = (unsigned char)(0x80 | (cp & 0x3F));
            } else {
                out[o++] = (unsigned char)(0xF0 | (cp >> 18));
                out[o++] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
                out[o++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                out[o++] = (unsigned char)(0x80 | (cp & 0x3F));
            }
            continue;
        }
        default: return -1;
        }
        out[o++] = c;
    }
    return o;
}

/* runs.InputReader: the release lines of some lines of a file, into buffers the caller gives. */
static PyObject *release_lines(PyObject *self, PyObject *args)
{
    Py_buffer data, starts, lengths, out, ends;
    PyObject *tuple, *result = NULL;
    Names names;
    if (!PyArg_ParseTuple(args, "y*y*y*O!w*w*", &data, &starts, &lengths, &PyTuple_Type, &tuple, &out, &ends))
        return NULL;
    Py_ssize_t count = starts.len / 8, total = 0, longest = 0;
    const int64_t *start = (const int64_t *)starts.buf, *length = (const int64_t *)lengths.buf;
    unsigned char *values = NULL;
    if (names_of(tuple, &names) < 0) goto done;
    if (lengths.len != starts.len || starts.len % 8 || ends.len < (count + 1) * 4) {
        PyErr_SetString(PyExc_ValueError, "starts and lengths must be int64 arrays of one length, offsets one longer (int32)");
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        if (start[i] < 0 || length[i] < 0 || start[i] > data.len || length[i] > data.len - start[i]) {
            PyErr_SetString(PyExc_ValueError, "a line lies outside the data");
            goto done;
        }
        total += length[i] + 1;
        if (length[i] > longest) longest = length[i];
    }
    if (total > out.len || total > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "out must hold the lines' bytes and a newline each, under 2 GiB");
        goto done;
    }
    values = PyMem_Malloc(longest > 0 ? (size_t)longest : 1);
    if (values == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    unsigned char *w = (unsigned char *)out.buf;
    int32_t *offsets = (int32_t *)ends.buf;
    Py_ssize_t o = 0;
    offsets[0] = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_ssize_t size = release_into((const unsigned char *)data.buf + start[i], (Py_ssize_t)length[i],
                                       &names, values, w + o);
        if (size < 0) { /* not the line it was when it was staged */
            result = Py_None;
            Py_INCREF(result);
            goto done;
        }
        o += size;
        w[o++] = '\n';
        offsets[i + 1] = (int32_t)o;
    }
    result = PyLong_FromSsize_t(o);
done:
    PyMem_Free(values);
    PyBuffer_Release(&data);
    PyBuffer_Release(&starts);
    PyBuffer_Release(&lengths);
    PyBuffer_Release(&out);
    PyBuffer_Release(&ends);
    return result;
}

PyDoc_STRVAR(release_lines_doc,
"release_lines(data, starts, lengths, names, out, offsets) -> int | None\n\n"
"The release lines (release_line) of the lines of `data` at `starts` (int64), `lengths` (int64)\n"
"bytes long, written to `out` one after the other, each ended by a newline, with their offsets\n"
"(int32, one more than the lines) in `offsets`; `out` holds their lengths and a byte each. The\n"
"bytes written, or None where a line's release line is not sure.");

static PyObject *split_string(PyObject *self, PyObject *args)
{
    Py_buffer data, key, rest, texts;
    PyObject *rest_obj, *texts_obj;
    if (!PyArg_ParseTuple(args, "y*y*OO", &data, &key, &rest_obj, &texts_obj)) return NULL;
    if (PyObject_GetBuffer(rest_obj, &rest, PyBUF_WRITABLE) < 0) {
        PyBuffer_Release(&data);
        PyBuffer_Release(&key);
        return NULL;
    }
    if (PyObject_GetBuffer(texts_obj, &texts, PyBUF_WRITABLE) < 0) {
        PyBuffer_Release(&data);
        PyBuffer_Release(&key);
        PyBuffer_Release(&rest);
        return NULL;
    }
    const unsigned char *s = (const unsigned char *)data.buf;
    Py_ssize_t n = data.len, lines = 0;
    for (const unsigned char *at = s; (at = memchr(at, '\n', (size_t)(n - (at - s)))) != NULL; at++) lines++;
    PyObject *offsets = NULL;
    int ok = rest.len >= n && texts.len >= n;
    if (ok) {
        offsets = PyBytes_FromStringAndSize(NULL, (lines + 1) * (Py_ssize_t)sizeof(int32_t));
        ok = offsets != NULL;
    }
    Py_ssize_t r = 0, t = 0, i = 0;
    if (ok) {
        unsigned char *rs = (unsigned char *)rest.buf, *ts = (unsigned char *)texts.buf;
        int32_t *off = (int32_t *)PyBytes_AS_STRING(offsets);
        off[0] = 0;
        for (Py_ssize_t line = 0; line < lines; line++) {
            const unsigned char *nl = memchr(s + i, '\n', (size_t)(n - i));
            Py_ssize_t end = nl - s, cut, cut_end, text, text_end;
            if (find_member(s + i, end - i, &key, &cut, &cut_end, &text, &text_end, NULL) < 0) { ok = 0; break; }
            Py_ssize_t written = unescape(s + i, text, text_end, ts + t);
            if (written < 0 || t + written > INT32_MAX) { ok = 0; break; }
            t += written;
            off[line + 1] = (int32_t)t;
            memcpy(rs + r, s + i, (size_t)cut);
            r += cut;
            memcpy(rs + r, s + i + cut_end, (size_t)(end - i - cut_end));
            r += end - i - cut_end;
            rs[r++] = '\n';
            i = end + 1;
        }
        ok = ok && i == n; /* every line ended by a newline */
    }
    int too_small = !(rest.len >= n && texts.len >= n);
    PyBuffer_Release(&data);
    PyBuffer_Release(&key);
    PyBuffer_Release(&rest);
    PyBuffer_Release(&texts);
    if (too_small) {
        PyErr_SetString(PyExc_ValueError, "rest and texts must hold as many bytes as data");
        return NULL;
    }
    if (ok) return Py_BuildValue("(Nnn)", offsets, r, t);
    Py_XDECREF(offsets);
    if (PyErr_Occurred()) return NULL;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(split_string_doc,
"split_string(data, key, rest, texts) -> (offsets, rest_size, texts_size) | None\n\n"
"JSONL lines (each ended by a newline) parted in two: into `rest` (a writable buffer as long\n"
"as `data`, its first rest_size bytes) the lines without the member `key`; into `texts` the\n"
"UTF-8 of its string values, which the int32 `offsets` cut. None unless every line has the\n"
"key once, unescaped, with a string value that UTF-8 can hold.");

/* --- corpus.text_hashes: each text's hash, from where Python keeps its characters -------- */

/* A string's characters as Python stores them (one, two or four bytes each, in the narrowest
 * kind that holds them all, so equal strings have equal bytes and kinds): the hash function
 * (xxhash's xxh3_64_intdigest, passed in) reads them in place, seeded with the kind, with no
 * UTF-8 copy made. corpus.text_hash is the same hash from the string's encoding in that kind. */
static PyObject *hashes(PyObject *self, PyObject *args)
{
    PyObject *texts, *func, *out_obj;
    if (!PyArg_ParseTuple(args, "O!OO", &PyList_Type, &texts, &func, &out_obj)) return NULL;
    Py_buffer out;
    if (PyObject_GetBuffer(out_obj, &out, PyBUF_WRITABLE | PyBUF_FORMAT) < 0) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(texts);
    if (out.itemsize != 8 || out.len / 8 < n) {
        PyBuffer_Release(&out);
        PyErr_SetString(PyExc_ValueError, "out must be a uint64 array as long as texts");
        return NULL;
    }
    uint64_t *values = (uint64_t *)out.buf;
    PyObject *seeds[5] = {NULL, PyLong_FromLong(1), PyLong_FromLong(2), NULL, PyLong_FromLong(4)};
    int failed = seeds[1] == NULL || seeds[2] == NULL || seeds[4] == NULL;
    for (Py_ssize_t i = 0; i < n && !failed; i++) {
        PyObject *text = PyList_GET_ITEM(texts, i);
        if (!PyUnicode_Check(text)) { values[i] = 0; continue; } /* no value */
        if (PyUnicode_READY(text) < 0) { failed = 1; break; }
        int kind = PyUnicode_KIND(text);
        PyObject *view = PyMemoryView_FromMemory(
            (char *)PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text) * kind, PyBUF_READ);
        if (view == NULL) { failed = 1; break; }
        PyObject *value = PyObject_CallFunctionObjArgs(func, view, seeds[kind], NULL);
        Py_DECREF(view);
        if (value == NULL) { failed = 1; break; }
        uint64_t h = PyLong_AsUnsignedLongLong(value);
        Py_DECREF(value);
        if (h == (uint64_t)-1 && PyErr_Occurred()) { failed = 1; break; }
        values[i] = h ? h : 1; /* 0 stands for "no value" */
    }
    Py_XDECREF(seeds[1]); Py_XDECREF(seeds[2]); Py_XDECREF(seeds[4]);
    PyBuffer_Release(&out);
    if (failed) return NULL;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(hashes_doc,
"hashes(texts, xxh3_64_intdigest, out)\n\n"
"corpus.text_hash of each string of a list into a uint64 array, 0 for what is not a string.");

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS, scan_doc},
    {"others", others, METH_VARARGS, others_doc},
    {"ids_agree", ids_agree, METH_VARARGS, ids_agree_doc},
    {"hashes", hashes, METH_VARARGS, hashes_doc},
    {"string_value", string_value, METH_VARARGS, string_value_doc},
    {"release_line", release_line, METH_VARARGS, release_line_doc},
    {"release_lines", release_lines, METH_VARARGS, release_lines_doc},
    {"split_string", split_string, METH_VARARGS, split_string_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "builder._scan",
    "The batch screens and sketches of builder/screens.py, in one pass over each text.", -1, methods,
};

PyMODINIT_FUNC PyInit__scan(void) { return PyModule_Create(&module); }
