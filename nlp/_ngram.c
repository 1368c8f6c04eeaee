/* The learned stage's hot loop, compiled: the weight sums of a text's known n-grams.
 *
 * nlp/model.py scores a window by summing, for each head, the weights of the
 * distinct character 1-, 2- and 3-grams of the window that the model knows
 * (then dividing by the square root of their number). In Python that takes an
 * automaton pass that builds a tuple per match, a set, and a list lookup per
 * row and head: most of the detector's time after the quick check. Here it is
 * one pass over the string's code points with an open-addressing hash table
 * from n-gram to row, and the sums in double precision.
 *
 * nlp/gram_index.py stays the reference: tests/nlp/test_model.py checks that
 * both find the same rows and the same sums, and nlp/model.py falls back to
 * it when this module was not built.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Keys: a 3-gram is its three 21-bit code points (bits 0-62, bit 63 clear); a
 * 2-gram sets bit 63, a 1-gram bits 63 and 62, so no two n-grams share a key. */
#define EMPTY UINT64_MAX
#define TWO ((uint64_t)1 << 63)
#define ONE ((uint64_t)3 << 62)

static inline uint64_t mix(uint64_t x)
{
    /* splitmix64's finaliser: neighbouring code points land far apart. */
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* One slot of the table: key, row and the call that last counted the row,
 * together in 16 bytes, so that a lookup and its count touch one cache line
 * (the table is megabytes: every lookup is a cache miss). */
typedef struct {
    uint64_t key;
    int32_t row;
    uint32_t stamp;
} Slot;

typedef struct {
    PyObject_HEAD
    Slot *slots;
    size_t mask;
    float *weights; /* rows x heads, row-major */
    Py_ssize_t n_rows;
    Py_ssize_t n_heads;
    uint32_t call; /* stamps a slot when its row is counted, so each counts once */
    int32_t *found;
    Py_ssize_t found_cap;
} Scorer;

/* Count the row of `key`, if the model knows it and it was not counted in this call. */
static inline void count(Scorer *s, uint64_t key, Py_ssize_t *found)
{
    size_t i = (size_t)mix(key) & s->mask;
    while (s->slots[i].key != EMPTY) {
        Slot *slot = &s->slots[i];
        if (slot->key == key) {
            if (slot->stamp != s->call) {
                slot->stamp = s->call;
                s->found[(*found)++] = slot->row;
            }
            return;
        }
        i = (i + 1) & s->mask;
    }
}

static void scorer_dealloc(Scorer *self)
{
    free(self->slots);
    free(self->weights);
    free(self->found);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Scorer(vocabulary, weights, heads): vocabulary[i] is the n-gram of row i
 * (entries that are empty, longer than 3 or hold a surrogate never match);
 * weights is a C-contiguous buffer of native float32, len(vocabulary) x heads. */
static int scorer_init(Scorer *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"vocabulary", "weights", "heads", NULL};
    PyObject *vocabulary;
    Py_buffer view;
    Py_ssize_t heads;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!y*n", kwlist, &PyList_Type, &vocabulary, &view, &heads))
        return -1;
    /* Called again on a built scorer: start afresh. */
    free(self->slots);
    free(self->weights);
    free(self->found);
    self->slots = NULL;
    self->weights = NULL;
    self->found = NULL;
    Py_ssize_t n = PyList_GET_SIZE(vocabulary);
    if (heads <= 0 || view.len != n * heads * (Py_ssize_t)sizeof(float)) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "weights must hold len(vocabulary) x heads float32 values");
        return -1;
    }
    size_t size = 1024;
    while (size < (size_t)n * 2)
        size <<= 1;
    self->slots = malloc(size * sizeof(Slot));
    self->weights = malloc((size_t)view.len ? (size_t)view.len : 1);
    self->found_cap = 256;
    self->found = malloc((size_t)self->found_cap * sizeof(int32_t));
    if (!self->slots || !self->weights || !self->found) {
        PyBuffer_Release(&view);
        PyErr_NoMemory();
        return -1;
    }
    memcpy(self->weights, view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    for (size_t i = 0; i < size; i++) {
        self->slots[i].key = EMPTY;
        self->slots[i].row = -1;
        self->slots[i].stamp = 0;
    }
    self->mask = size - 1;
    self->n_rows = n;
    self->n_heads = heads;
    self->call = 0;
    for (Py_ssize_t row = 0; row < n; row++) {
        PyObject *gram = PyList_GET_ITEM(vocabulary, row);
        if (!PyUnicode_Check(gram)) {
            PyErr_SetString(PyExc_TypeError, "vocabulary entries must be str");
            return -1;
        }
        Py_ssize_t len = PyUnicode_GET_LENGTH(gram);
        if (len < 1 || len > 3)
            continue;
        int kind = PyUnicode_KIND(gram);
        const void *data = PyUnicode_DATA(gram);
        uint64_t cp[3];
        int surrogate = 0;
        for (Py_ssize_t k = 0; k < len; k++) {
            cp[k] = PyUnicode_READ(kind, data, k);
            surrogate |= cp[k] >= 0xD800 && cp[k] <= 0xDFFF;
        }
        if (surrogate)
            continue;
        uint64_t key = len == 1 ? ONE | cp[0] : len == 2 ? TWO | cp[0] << 21 | cp[1] : cp[0] << 42 | cp[1] << 21 | cp[2];
        size_t i = (size_t)mix(key) & self->mask;
        while (self->slots[i].key != EMPTY && self->slots[i].key != key)
            i = (i + 1) & self->mask;
        /* A repeated entry takes the later row, as a dict built from the list would. */
        self->slots[i].key = key;
        self->slots[i].row = (int32_t)row;
    }
    return 0;
}

/* sums(text, columns=None) -> (number of distinct known n-grams, sum of column
 * c's weights over them for each c in columns, or for every head when None). */
static PyObject *scorer_sums(Scorer *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "sums(text: str, columns: tuple[int, ...] | None = None)");
        return NULL;
    }
    if (!self->slots) {
        PyErr_SetString(PyExc_RuntimeError, "Scorer was not built");
        return NULL;
    }
    PyObject *text = args[0];
    PyObject *columns = nargs == 2 ? args[1] : Py_None;
    if (columns != Py_None && !PyTuple_Check(columns)) {
        PyErr_SetString(PyExc_TypeError, "columns must be a tuple of head numbers or None");
        return NULL;
    }
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    if (3 * len > self->found_cap) {
        Py_ssize_t cap = 3 * len;
        int32_t *grown = realloc(self->found, (size_t)cap * sizeof(int32_t));
        if (!grown)
            return PyErr_NoMemory();
        self->found = grown;
        self->found_cap = cap;
    }
    if (++self->call == 0) { /* wrapped: forget every stamp */
        for (size_t i = 0; i <= self->mask; i++)
            self->slots[i].stamp = 0;
        self->call = 1;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t found = 0;
    uint64_t a = 0, b = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        uint64_t c = PyUnicode_READ(kind, data, i);
        count(self, ONE | c, &found);
        if (i >= 1)
            count(self, TWO | b << 21 | c, &found);
        if (i >= 2)
            count(self, a << 42 | b << 21 | c, &found);
        a = b;
        b = c;
    }
    Py_ssize_t n_cols = columns == Py_None ? self->n_heads : PyTuple_GET_SIZE(columns);
    PyObject *result = PyTuple_New(1 + n_cols);
    PyObject *count_of = PyLong_FromSsize_t(found);
    if (!result || !count_of) {
        Py_XDECREF(result);
        Py_XDECREF(count_of);
        return NULL;
    }
    PyTuple_SET_ITEM(result, 0, count_of);
    for (Py_ssize_t j = 0; j < n_cols; j++) {
        Py_ssize_t col = j;
        if (columns != Py_None) {
            col = PyLong_AsSsize_t(PyTuple_GET_ITEM(columns, j));
            if (col == -1 && PyErr_Occurred()) {
                Py_DECREF(result);
                return NULL;
            }
            if (col < 0 || col >= self->n_heads) {
                Py_DECREF(result);
                PyErr_SetString(PyExc_IndexError, "head number out of range");
                return NULL;
            }
        }
        double total = 0.0;
        const float *w = self->weights + col;
        for (Py_ssize_t k = 0; k < found; k++)
            total += (double)w[(Py_ssize_t)self->found[k] * self->n_heads];
        PyObject *value = PyFloat_FromDouble(total);
        if (!value) {
            Py_DECREF(result);
            return NULL;
        }
        PyTuple_SET_ITEM(result, 1 + j, value);
    }
    return result;
}

static PyMethodDef scorer_methods[] = {
    {"sums", (PyCFunction)(void (*)(void))scorer_sums, METH_FASTCALL,
     "sums(text, columns=None) -> (n, *sums): the number of distinct known 1-3-grams of text "
     "and, per head in columns (all when None), the sum of their weights."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ScorerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "nlp._ngram.Scorer",
    .tp_basicsize = sizeof(Scorer),
    .tp_dealloc = (destructor)scorer_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The weight sums of a text's distinct known character n-grams.",
    .tp_methods = scorer_methods,
    .tp_init = (initproc)scorer_init,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_ngram",
    .m_doc = "Compiled n-gram scoring of the learned detector stage.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__ngram(void)
{
    if (PyType_Ready(&ScorerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    Py_INCREF(&ScorerType);
    if (PyModule_AddObject(m, "Scorer", (PyObject *)&ScorerType) < 0) {
        Py_DECREF(&ScorerType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
