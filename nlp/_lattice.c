/* jieba's word lattice around a keyword, compiled: nlp/segment.py's hot loops.
 *
 * The lexicon cuts only the stretch of a message around each keyword it may
 * count (nlp/segment.py explains why that gives jieba's own tokens). Finding
 * the free positions that bound such a stretch and the best path through it
 * are a few dozen dictionary lookups per keyword; in Python the slicing and
 * the interpreter around them cost a third of the detector's time on the
 * messages it flags. Here the same lookups run in C against the same dict
 * (jieba's FREQ, never copied: start-up stays jieba's), with the same
 * arithmetic in the same order, so the same floats and the same choices.
 *
 * nlp/segment.py's `_Block` stays the reference and the fallback when this
 * module was not built; tests/nlp/test_detector.py checks that both cut
 * alike, and that the detector's verdicts are those of jieba's whole-text cut.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

typedef struct {
    PyObject_HEAD
    PyObject *freq; /* jieba's FREQ: word or word prefix -> count (0 for a mere prefix) */
    double logtotal; /* log(tokenizer.total), as jieba's calc() computes it */
    Py_ssize_t short_word; /* longer words are found by the caller's automaton ("crossed") */
} Lattice;

static void lattice_dealloc(Lattice *self)
{
    Py_XDECREF(self->freq);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Lattice(freq, logtotal, short_word) */
static int lattice_init(Lattice *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"freq", "logtotal", "short_word", NULL};
    PyObject *freq;
    double logtotal;
    Py_ssize_t short_word;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!dn", kwlist, &PyDict_Type, &freq, &logtotal, &short_word))
        return -1;
    if (short_word < 1) {
        PyErr_SetString(PyExc_ValueError, "short_word must be at least 1");
        return -1;
    }
    Py_INCREF(freq);
    Py_XSETREF(self->freq, freq);
    self->logtotal = logtotal;
    self->short_word = short_word;
    return 0;
}

/* FREQ's value for chars[i:j]: 1 a word, 0 a mere prefix, -1 absent, -2 error. */
static int entry(Lattice *self, PyObject *chars, Py_ssize_t i, Py_ssize_t j, PyObject **value)
{
    PyObject *piece = PyUnicode_Substring(chars, i, j);
    if (!piece)
        return -2;
    PyObject *found = PyDict_GetItemWithError(self->freq, piece); /* borrowed */
    Py_DECREF(piece);
    if (!found)
        return PyErr_Occurred() ? -2 : -1;
    if (value)
        *value = found;
    int truth = PyObject_IsTrue(found);
    return truth < 0 ? -2 : truth;
}

static inline int ascii_alnum(Py_UCS4 c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* _Block.is_free: 1 free, 0 not, -1 error. `crossed` is a set of text
 * positions inside a long word's occurrence, `offset` where chars starts. */
static int is_free(Lattice *self, PyObject *chars, Py_ssize_t k, PyObject *crossed, Py_ssize_t offset)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(chars);
    if (k <= 0 || k >= n)
        return 1;
    if (PySet_GET_SIZE(crossed)) {
        PyObject *at = PyLong_FromSsize_t(k + offset);
        if (!at)
            return -1;
        int inside = PySet_Contains(crossed, at);
        Py_DECREF(at);
        if (inside)
            return inside < 0 ? -1 : 0;
    }
    int kind = PyUnicode_KIND(chars);
    const void *data = PyUnicode_DATA(chars);
    if (ascii_alnum(PyUnicode_READ(kind, data, k - 1)) && ascii_alnum(PyUnicode_READ(kind, data, k)))
        return 0; /* jieba glues runs of single ASCII letters/digits back together */
    /* A short word crossing k starts at most short_word - 1 positions before
     * it, nearest first; FREQ holds every prefix of every word. */
    Py_ssize_t low = k >= self->short_word ? k - self->short_word + 1 : 0;
    for (Py_ssize_t i = k - 1; i >= low; i--) {
        int found = entry(self, chars, i, k + 1, NULL);
        if (found == -2)
            return -1;
        if (found == 1)
            return 0;
        if (found == 0) {
            for (Py_ssize_t j = k + 2; j <= n; j++) {
                found = entry(self, chars, i, j, NULL);
                if (found == -2)
                    return -1;
                if (found == 1)
                    return 0;
                if (found == -1)
                    break;
            }
        }
    }
    return 1;
}

static int parse_chars(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t want, const char *usage, PyObject **chars)
{
    if (nargs != want || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, usage);
        return -1;
    }
    *chars = args[0];
    return 0;
}

/* windows(chars, spans, first_negation, first_clause, crossed, offset, merge_gap)
 * -> _Block.windows: merged [start, end) windows with free ends around each
 * span (s, e, scoped) of `spans` (sorted, relative to chars). */
typedef struct {
    Py_ssize_t a, b;
} Window;

static PyObject *lattice_windows(Lattice *self, PyObject *const *args, Py_ssize_t nargs)
{
    static const char usage[] =
        "windows(chars: str, spans: list[tuple[int, int, bool]], first_negation: int, first_clause: int, "
        "crossed: set[int], offset: int, merge_gap: int)";
    PyObject *chars;
    if (parse_chars(args, nargs, 7, usage, &chars) < 0)
        return NULL;
    PyObject *spans = args[1];
    PyObject *crossed = args[4];
    if (!PyList_Check(spans) || !PyAnySet_Check(crossed)) {
        PyErr_SetString(PyExc_TypeError, usage);
        return NULL;
    }
    Py_ssize_t first_negation = PyLong_AsSsize_t(args[2]);
    Py_ssize_t first_clause = PyLong_AsSsize_t(args[3]);
    Py_ssize_t offset = PyLong_AsSsize_t(args[5]);
    Py_ssize_t merge_gap = PyLong_AsSsize_t(args[6]);
    if (PyErr_Occurred())
        return NULL;
    Py_ssize_t count = PyList_GET_SIZE(spans);
    /* merged spans: start, end, leftmost position needed */
    Py_ssize_t *spans_merged = PyMem_Malloc((size_t)(count ? count : 1) * 3 * sizeof(Py_ssize_t));
    Window *found = PyMem_Malloc((size_t)(count ? count : 1) * sizeof(Window));
    if (!spans_merged || !found) {
        PyMem_Free(spans_merged);
        PyMem_Free(found);
        return PyErr_NoMemory();
    }
    Py_ssize_t merged = 0;
    PyObject *result = NULL;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *span = PyList_GET_ITEM(spans, k);
        if (!PyTuple_Check(span) || PyTuple_GET_SIZE(span) != 3) {
            PyErr_SetString(PyExc_TypeError, "a span is a tuple (start, end, scoped)");
            goto done;
        }
        Py_ssize_t s = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 0));
        Py_ssize_t e = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 1));
        int scoped = PyObject_IsTrue(PyTuple_GET_ITEM(span, 2));
        if (PyErr_Occurred() || scoped < 0)
            goto done;
        Py_ssize_t need = s < first_negation ? s : first_negation;
        if (scoped && first_clause < need)
            need = first_clause;
        Py_ssize_t *last = spans_merged + 3 * (merged - 1);
        if (merged && s - last[1] <= merge_gap) {
            if (e > last[1])
                last[1] = e;
            if (need < last[2])
                last[2] = need;
        } else {
            Py_ssize_t *next = spans_merged + 3 * merged++;
            next[0] = s;
            next[1] = e;
            next[2] = need;
        }
    }
    for (Py_ssize_t k = 0; k < merged; k++) {
        Py_ssize_t a = spans_merged[3 * k + 2], b = spans_merged[3 * k + 1];
        int free;
        while ((free = is_free(self, chars, a, crossed, offset)) == 0)
            a--;
        if (free < 0)
            goto done;
        while ((free = is_free(self, chars, b, crossed, offset)) == 0)
            b++;
        if (free < 0)
            goto done;
        /* insertion sort by (a, b), as sorted() orders the tuples */
        Py_ssize_t at = k;
        while (at > 0 && (found[at - 1].a > a || (found[at - 1].a == a && found[at - 1].b > b))) {
            found[at] = found[at - 1];
            at--;
        }
        found[at].a = a;
        found[at].b = b;
    }
    /* Overlapping windows become one (a reach-back can cover earlier ones). */
    result = PyList_New(0);
    if (!result)
        goto done;
    Py_ssize_t kept = 0;
    for (Py_ssize_t k = 0; k < merged; k++) {
        if (kept && found[k].a <= found[kept - 1].b) {
            if (found[k].b > found[kept - 1].b)
                found[kept - 1].b = found[k].b;
        } else {
            found[kept++] = found[k];
        }
    }
    for (Py_ssize_t k = 0; k < kept; k++) {
        PyObject *pair = Py_BuildValue("(nn)", found[k].a, found[k].b);
        if (!pair || PyList_Append(result, pair) < 0) {
            Py_XDECREF(pair);
            Py_CLEAR(result);
            goto done;
        }
        Py_DECREF(pair);
    }
done:
    PyMem_Free(spans_merged);
    PyMem_Free(found);
    return result;
}

/* tokens.append(chars[i:j]); -1 on error. */
static int append_slice(PyObject *tokens, PyObject *chars, Py_ssize_t i, Py_ssize_t j)
{
    PyObject *piece = PyUnicode_Substring(chars, i, j);
    if (!piece)
        return -1;
    int failed = PyList_Append(tokens, piece);
    Py_DECREF(piece);
    return failed;
}

/* max() over jieba's (value, x) tuples: the larger value, then the larger x. */
static inline void keep_best(double candidate, Py_ssize_t x, double *best_score, Py_ssize_t *best_x)
{
    if (*best_x < 0 || candidate > *best_score || (candidate == *best_score && x > *best_x)) {
        *best_score = candidate;
        *best_x = x;
    }
}

/* best_path(chars, a, b) -> jieba.lcut(chars[a:b], HMM=False), where a and b
 * are free positions of chars (no word straddles them). */
static PyObject *lattice_best_path(Lattice *self, PyObject *const *args, Py_ssize_t nargs)
{
    static const char usage[] = "best_path(chars: str, a: int, b: int)";
    PyObject *chars;
    if (parse_chars(args, nargs, 3, usage, &chars) < 0)
        return NULL;
    Py_ssize_t a = PyLong_AsSsize_t(args[1]);
    Py_ssize_t b = PyLong_AsSsize_t(args[2]);
    if (PyErr_Occurred())
        return NULL;
    if (a < 0 || b > PyUnicode_GET_LENGTH(chars) || a > b) {
        PyErr_SetString(PyExc_IndexError, "window out of range");
        return NULL;
    }
    Py_ssize_t size = b - a;
    /* jieba's route[idx] = (score, x) as two arrays. */
    double *score = PyMem_Malloc((size_t)(size + 1) * sizeof(double));
    Py_ssize_t *choice = PyMem_Malloc((size_t)(size + 1) * sizeof(Py_ssize_t));
    if (!score || !choice) {
        PyMem_Free(score);
        PyMem_Free(choice);
        return PyErr_NoMemory();
    }
    score[size] = 0.0;
    choice[size] = 0;
    for (Py_ssize_t idx = size - 1; idx >= 0; idx--) {
        Py_ssize_t i = a + idx;
        double best_score = 0.0;
        Py_ssize_t best_x = -1;
        /* get_DAG: extend while the fragment is a word or a word prefix. */
        for (Py_ssize_t j = i; j < b; j++) {
            PyObject *value = NULL;
            int found = entry(self, chars, i, j + 1, &value);
            if (found == -2)
                goto fail;
            if (found == -1)
                break;
            if (found == 1) { /* a word: `log(FREQ.get(word) or 1) - logtotal`, as jieba's calc() */
                double count = PyFloat_AsDouble(value);
                if (count == -1.0 && PyErr_Occurred())
                    goto fail;
                keep_best((log(count) - self->logtotal) + score[j - a + 1], j - a, &best_score, &best_x);
            }
        }
        if (best_x < 0) /* no word from i: the character alone (jieba's DAG[i] = [i]), counted as 1 */
            keep_best((log(1.0) - self->logtotal) + score[idx + 1], idx, &best_score, &best_x);
        score[idx] = best_score;
        choice[idx] = best_x;
    }
    PyObject *tokens = PyList_New(0);
    if (!tokens)
        goto fail;
    int kind = PyUnicode_KIND(chars);
    const void *data = PyUnicode_DATA(chars);
    Py_ssize_t run = -1; /* start of a run of single ASCII letters/digits, which jieba glues */
    for (Py_ssize_t x = 0; x <= size;) {
        Py_ssize_t y = x < size ? choice[x] + 1 : size + 1;
        int single = x < size && y - x == 1 && ascii_alnum(PyUnicode_READ(kind, data, a + x));
        if (run >= 0 && !single) {
            if (append_slice(tokens, chars, a + run, a + x) < 0) {
                Py_DECREF(tokens);
                goto fail;
            }
            run = -1;
        }
        if (x == size)
            break;
        if (single) {
            if (run < 0)
                run = x;
        } else if (append_slice(tokens, chars, a + x, a + y) < 0) {
            Py_DECREF(tokens);
            goto fail;
        }
        x = y;
    }
    PyMem_Free(score);
    PyMem_Free(choice);
    return tokens;
fail:
    PyMem_Free(score);
    PyMem_Free(choice);
    return NULL;
}

static PyMethodDef lattice_methods[] = {
    {"windows", (PyCFunction)(void (*)(void))lattice_windows, METH_FASTCALL,
     "windows(chars, spans, first_negation, first_clause, crossed, offset, merge_gap) -> merged "
     "[(start, end)] windows with free ends around each (start, end, scoped) span."},
    {"best_path", (PyCFunction)(void (*)(void))lattice_best_path, METH_FASTCALL,
     "best_path(chars, a, b) -> jieba.lcut(chars[a:b], HMM=False) for free positions a and b."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject LatticeType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "nlp._lattice.Lattice",
    .tp_basicsize = sizeof(Lattice),
    .tp_dealloc = (destructor)lattice_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "jieba's word lattice over its FREQ dict: free positions and best paths.",
    .tp_methods = lattice_methods,
    .tp_init = (initproc)lattice_init,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_lattice",
    .m_doc = "Compiled word lattice of the lexicon stage's partial jieba segmentation.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__lattice(void)
{
    if (PyType_Ready(&LatticeType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    Py_INCREF(&LatticeType);
    if (PyModule_AddObject(m, "Lattice", (PyObject *)&LatticeType) < 0) {
        Py_DECREF(&LatticeType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
