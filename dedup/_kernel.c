/*
 * dedup._kernel: the compiled fast path of dedup.shingle.shingle_batch and
 * dedup.signature.signatures. Results are bit-identical to the NumPy path and to the
 * plain-Python definitions in shingle.py (tokens, hash_token, _combine, line_hash).
 *
 * Division of work (see dedup/kernel.py for the Python side):
 *   - Python folds each text that is not pure ASCII (shingle._fold: NFKC + casefold)
 *     and passes the list of str. Pure ASCII texts come as they are: their fold is
 *     str.lower(), which the scan here applies as it reads (A-Z to a-z; on folded text
 *     that changes nothing, since casefold leaves no A-Z). Code points are read in
 *     place (PyUnicode_DATA with PyUnicode_KIND: 1, 2 or 4 bytes per code point), so
 *     nothing is re-encoded.
 *   - Character classes come from Python's lazily filled uint8 table over all code
 *     points (shingle._class_table(): 0 separator, 1 word, 2 solo, 255 not filled yet).
 *     The table is the only source of class data, so the solo ranges and the Unicode
 *     categories are defined in one place. When a text holds a code point whose entry
 *     is 255, shingle() returns the 256-code-point blocks that need filling instead of
 *     results; Python fills them and calls again. Blocks, not single code points, so a
 *     corpus needs at most a few dozen such retries over a whole run.
 *   - The `_QUOTES` map of normalize() is not applied here: it maps separators to
 *     separators only, and a separator's code point never reaches a hash (only its
 *     class does, and "\n"). kernel.py checks that property of `_QUOTES` before it uses
 *     this module, so a change there turns the kernel off instead of breaking results.
 *
 * Both entry points release the GIL for all of their pure-C work.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#define RESTRICT __restrict__
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#elif defined(_MSC_VER)
#define ALWAYS_INLINE __forceinline
#define RESTRICT __restrict
#else
#define ALWAYS_INLINE inline
#define RESTRICT
#endif
#ifndef LIKELY
#define LIKELY(x) (x)
#define UNLIKELY(x) (x)
#endif

/* Constants of the hash construction: the same values as in dedup/shingle.py.
 * kernel.py compares them with shingle.py's through constants() before use. */
#define BASE 0x100000001B3ULL
#define GOLDEN 0x9E3779B97F4A7C15ULL
#define MAX_SHINGLE_SIZE 64
#define SHORT_LINE_TOKENS 12
#define N_CODEPOINTS 0x110000
#define BLOCK_SHIFT 8 /* class-table blocks reported back to Python: 256 code points */
#define N_BLOCKS (N_CODEPOINTS >> BLOCK_SHIFT)
#define EMPTY_SLOT 0xFFFFFFFFu /* a MinHash slot no shingle reached (signature.EMPTY) */

enum { CLS_SEP = 0, CLS_WORD = 1, CLS_SOLO = 2, CLS_UNKNOWN = 255 };
/* Only in the kernel's private Latin-1 copy of the table: "\n", a separator that ends a line. */
enum { CLS_NEWLINE = 3 };

/* shingle._POSITION: odd multipliers, one per position in a shingle (splitmix64 of
 * 1..64, forced odd). Filled by init_positions() at module import. */
static uint64_t POSITION[MAX_SHINGLE_SIZE];

static void init_positions(void) {
    for (int i = 1; i <= MAX_SHINGLE_SIZE; i++) {
        uint64_t x = (uint64_t)i * GOLDEN;
        uint64_t y = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
        uint64_t z = (y ^ (y >> 27)) * 0x94D049BB133111EBULL;
        POSITION[i - 1] = (z ^ (z >> 31)) | 1;
    }
}

/* MurmurHash3's 64-bit finaliser (shingle._fmix64). */
static ALWAYS_INLINE uint64_t fmix64(uint64_t h) {
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    return h ^ (h >> 33);
}

/* MurmurHash3's 32-bit finaliser (signature.fmix32). */
static ALWAYS_INLINE uint32_t fmix32(uint32_t h) {
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    return h ^ (h >> 16);
}

/* ------------------------------------------------------------------------------------
 * Growable arrays (plain malloc: they are filled with the GIL released)
 * ------------------------------------------------------------------------------------ */

typedef struct {
    uint64_t *data;
    size_t len, cap;
} u64vec;

typedef struct {
    int64_t *data;
    size_t len, cap;
} i64vec;

/* Make room for `extra` more items of `item` bytes in a growable array; 0 on success, -1 when
 * out of memory. */
static int vec_reserve(void **data, size_t *cap, size_t len, size_t extra, size_t item) {
    if (*cap - len >= extra)
        return 0;
    size_t want = len + extra;
    size_t grown = *cap ? *cap : 1024;
    while (grown < want)
        grown *= 2;
    void *p = realloc(*data, grown * item);
    if (!p)
        return -1;
    *data = p;
    *cap = grown;
    return 0;
}

static int u64_reserve(u64vec *v, size_t extra) {
    void *data = v->data;
    int rc = vec_reserve(&data, &v->cap, v->len, extra, sizeof *v->data);
    v->data = data;
    return rc;
}

static int i64_reserve(i64vec *v, size_t extra) {
    void *data = v->data;
    int rc = vec_reserve(&data, &v->cap, v->len, extra, sizeof *v->data);
    v->data = data;
    return rc;
}

/* ------------------------------------------------------------------------------------
 * Sorting. Shingle and line hashes are fmix64 outputs, close to uniform: a counting
 * pass on the top bits spreads n of them over about n buckets of one or two, and an
 * insertion sort finishes the job with almost no moves. Input that does not spread
 * (repeated shingles, or a crafted set) goes to an in-place MSD radix sort instead
 * (American flag sort): at most 8 passes, never quadratic.
 * ------------------------------------------------------------------------------------ */

#define BUCKET_BITS_MAX 16 /* largest bucket table: 65536 counters */
#define BUCKET_LIMIT 32     /* fullest bucket that insertion sort is allowed to take */

typedef struct {
    uint64_t *tmp;   /* room for n values */
    size_t tmp_cap;
    uint32_t *count; /* (1 << BUCKET_BITS_MAX) + 1 counters */
} sorter;

static void insertion_sort_u64(uint64_t *a, size_t n) {
    for (size_t i = 1; i < n; i++) {
        uint64_t v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

static void radix_sort_u64(uint64_t *a, size_t n, int shift) {
    if (n <= BUCKET_LIMIT) {
        insertion_sort_u64(a, n);
        return;
    }
    size_t next[256]; /* bucket b's next unfilled slot while permuting */
    size_t end[256];  /* one past bucket b's last slot */
    memset(end, 0, sizeof end);
    for (size_t i = 0; i < n; i++)
        end[(a[i] >> shift) & 0xFF]++;
    size_t pos = 0;
    for (int b = 0; b < 256; b++) {
        next[b] = pos;
        pos += end[b];
        end[b] = pos;
    }
    /* Cycle-leader permutation: take the first misplaced value of bucket b, drop it into
     * its own bucket's next free slot and carry on with the value displaced there, until
     * one belongs in b. Every value moves once. */
    for (int b = 0; b < 256; b++) {
        while (next[b] < end[b]) {
            uint64_t v = a[next[b]];
            unsigned d = (unsigned)((v >> shift) & 0xFF);
            while (d != (unsigned)b) {
                uint64_t t = a[next[d]];
                a[next[d]++] = v;
                v = t;
                d = (unsigned)((v >> shift) & 0xFF);
            }
            a[next[b]++] = v;
        }
    }
    if (shift == 0)
        return;
    for (int b = 0; b < 256; b++) {
        size_t start = b ? end[b - 1] : 0;
        if (end[b] - start > 1)
            radix_sort_u64(a + start, end[b] - start, shift - 8);
    }
}

/* Sort a[0..n) by scattering on the top bits into s->tmp; 0 if some bucket is too full
 * (a is then unchanged), 1 when the sorted values are in s->tmp. */
static int bucket_sort_u64(sorter *s, const uint64_t *a, size_t n) {
    int bits = 1;
    while (((size_t)1 << bits) < n && bits < BUCKET_BITS_MAX)
        bits++;
    size_t n_buckets = (size_t)1 << bits;
    int shift = 64 - bits;
    uint32_t *count = s->count;
    memset(count, 0, (n_buckets + 1) * sizeof *count);
    for (size_t i = 0; i < n; i++)
        count[(a[i] >> shift) + 1]++;
    uint32_t fullest = 0;
    for (size_t b = 1; b <= n_buckets; b++)
        fullest = count[b] > fullest ? count[b] : fullest;
    if (fullest > BUCKET_LIMIT)
        return 0;
    for (size_t b = 1; b <= n_buckets; b++) /* count[b]: start of bucket b */
        count[b] += count[b - 1];
    uint64_t *tmp = s->tmp;
    for (size_t i = 0; i < n; i++)
        tmp[count[a[i] >> shift]++] = a[i];
    insertion_sort_u64(tmp, n); /* only moves values within their bucket */
    return 1;
}

/* Sort a[0..n) and drop repeats in place; returns the number of distinct values, or
 * (size_t)-1 when out of memory. */
static size_t sort_unique_u64(sorter *s, uint64_t *a, size_t n) {
    if (n < 2)
        return n;
    const uint64_t *sorted = a;
    if (n <= BUCKET_LIMIT) {
        insertion_sort_u64(a, n);
    } else {
        if (s->tmp_cap < n) {
            free(s->tmp);
            s->tmp_cap = n > 2 * s->tmp_cap ? n : 2 * s->tmp_cap;
            s->tmp = malloc(s->tmp_cap * sizeof *s->tmp);
            if (!s->tmp) {
                s->tmp_cap = 0;
                return (size_t)-1;
            }
        }
        if (!s->count && !(s->count = malloc((((size_t)1 << BUCKET_BITS_MAX) + 1) * sizeof *s->count)))
            return (size_t)-1;
        if (n <= ((size_t)BUCKET_LIMIT << BUCKET_BITS_MAX) / 4 && bucket_sort_u64(s, a, n))
            sorted = s->tmp;
        else
            radix_sort_u64(a, n, 56);
    }
    size_t out = 1;
    a[0] = sorted[0];
    for (size_t i = 1; i < n; i++) {
        if (sorted[i] != a[out - 1])
            a[out++] = sorted[i];
    }
    return out;
}

/* ------------------------------------------------------------------------------------
 * Shingling
 * ------------------------------------------------------------------------------------ */

typedef struct {
    int kind; /* PyUnicode_KIND: 1, 2 or 4 bytes per code point */
    const void *data;
    size_t len;
} text_ref;

typedef struct {
    const uint8_t *table; /* class of every code point, N_CODEPOINTS entries */
    uint8_t cls1[256];    /* its first 256 entries, with "\n" as CLS_NEWLINE */
    int k, char_k;
    u64vec tok;           /* scratch: token hashes of the current document */
    u64vec breaks;        /* scratch: token count at each "\n" of the current document */
    u64vec hashes;        /* output: shingle hashes, sorted unique per document */
    u64vec line_hashes;   /* output: short-line hashes, sorted unique per document */
    i64vec line_docs;     /* output: the document of each line hash */
    int64_t *offsets;     /* output: n_docs + 1 */
    int64_t *words;       /* output: n_docs */
    uint8_t *unknown;     /* N_BLOCKS flags: blocks with a code point of unknown class */
    size_t n_unknown;
    sorter sort;          /* scratch of sort_unique_u64 */
} shingler;

/* What a code point at position j of a word adds to the word's hash before fmix64:
 * (cp + 1) * BASE**j + GOLDEN, i.e. cp * mul + add with mul = BASE**j and
 * add = BASE**j + GOLDEN. Summed over a word of length L this is hash_token's
 * sum((cp_j + 1) * BASE**j) + L * GOLDEN. A table for the first N_POWERS positions
 * keeps the multiply chain BASE**j out of the scan's critical path; longer words go on
 * with the chain from BASE**N_POWERS. Filled by init_powers(). */
#define N_POWERS 64
typedef struct {
    uint64_t mul, add;
} power_term;
static power_term POWERS[N_POWERS + 1];

/* ASCII lowercasing of Latin-1 code units: texts that are pure ASCII come unfolded (their
 * fold, str.lower(), is only this); on folded text it changes nothing, as casefold
 * leaves no "A" to "Z". Filled by init_powers(). */
static uint8_t LOWER_LATIN1[256];

static void init_powers(void) {
    uint64_t pw = 1;
    for (int j = 0; j <= N_POWERS; j++) {
        POWERS[j].mul = pw;
        POWERS[j].add = pw + GOLDEN;
        pw *= BASE;
    }
    for (int c = 0; c < 256; c++)
        LOWER_LATIN1[c] = (uint8_t)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

/* The tokens of one text, and where its lines break.
 * tok[i] receives token i's hash before the final fmix64 (see power_term; a solo
 * character is a word of length one). breaks[] receives the number of tokens before
 * each "\n".
 *
 * The common case (a separator or a word character, and not "\n") runs without a
 * data-dependent branch: the end of a word would otherwise cost a mispredicted branch
 * per token. Every such character stores the pending word's hash at tok[n] and
 * advances n only when a word ends there; so tok needs room for one entry past the
 * last token. `kind` is a compile-time constant once inlined; for kind 1 the classes
 * come from the private Latin-1 table `cls1`, in which "\n" is CLS_NEWLINE. Returns the
 * number of tokens; sets *n_breaks and *n_solo. Unknown classes are flagged in
 * st->unknown. */
static ALWAYS_INLINE size_t tokenize_kind(uint64_t *RESTRICT tok, uint64_t *RESTRICT breaks, size_t *n_breaks,
                                          size_t *n_solo, shingler *st, int kind, const void *data, size_t len) {
    const uint8_t *RESTRICT table = st->table;
    const uint8_t *RESTRICT cls1 = st->cls1;
    size_t n = 0, solo = 0, nb = 0;
    uint64_t poly = 0; /* the hash so far of the word being read */
    uint64_t wlen = 0; /* its length */
    uint64_t big = 0;  /* BASE**wlen once wlen >= N_POWERS */
    for (size_t i = 0; i < len; i++) {
        uint32_t cp;
        unsigned cls;
        if (kind == 1) {
            uint8_t c = ((const uint8_t *)data)[i];
            cls = cls1[c];
            cp = LOWER_LATIN1[c];
        } else {
            cp = kind == 2 ? ((const uint16_t *)data)[i] : ((const uint32_t *)data)[i];
            /* Python's str holds no code point above 0x10FFFF, so `table[cp]` is in
             * bounds; the test only guards a malformed object. */
            cls = (kind == 4 && UNLIKELY(cp >= N_CODEPOINTS)) ? CLS_SEP : table[cp];
        }
        if (UNLIKELY(cls > CLS_WORD || (kind != 1 && cp == '\n'))) {
            if (wlen) {
                tok[n++] = poly;
                poly = wlen = 0;
            }
            if (cls == CLS_SOLO) {
                tok[n++] = (uint64_t)cp + 1 + GOLDEN;
                solo++;
            } else if (cls == CLS_NEWLINE || cp == '\n') {
                breaks[nb++] = n;
            } else if (cls == CLS_UNKNOWN) {
                /* Taken as a separator; the caller discards this batch's results. */
                uint8_t *flag = &st->unknown[cp >> BLOCK_SHIFT];
                st->n_unknown += !*flag;
                *flag = 1;
            }
            continue;
        }
        /* cls is CLS_SEP (0) or CLS_WORD (1). */
        power_term t;
        if (LIKELY(wlen < N_POWERS)) {
            t = POWERS[wlen];
        } else {
            if (wlen == N_POWERS)
                big = POWERS[N_POWERS].mul;
            t.mul = big;
            t.add = big + GOLDEN;
            big *= BASE;
        }
        uint64_t keep = (uint64_t)0 - cls; /* all ones inside a word, zero at a separator */
        uint64_t wnext = (wlen + 1) & keep;
        tok[n] = poly;
        n += wlen > wnext; /* a word ended here */
        poly = (poly + cp * t.mul + t.add) & keep;
        wlen = wnext;
    }
    if (wlen)
        tok[n++] = poly;
    *n_breaks = nb;
    *n_solo = solo;
    return n;
}

static size_t tokenize(uint64_t *tok, uint64_t *breaks, size_t *n_breaks, size_t *n_solo, shingler *st,
                       const text_ref *t) {
    switch (t->kind) {
    case 1:
        return tokenize_kind(tok, breaks, n_breaks, n_solo, st, 1, t->data, t->len);
    case 2:
        return tokenize_kind(tok, breaks, n_breaks, n_solo, st, 2, t->data, t->len);
    default:
        return tokenize_kind(tok, breaks, n_breaks, n_solo, st, 4, t->data, t->len);
    }
}

/* Only look for code points of unknown class (once results are known to be discarded). */
static void scan_unknown(shingler *st, const text_ref *t) {
    for (size_t i = 0; i < t->len; i++) {
        uint32_t cp = t->kind == 1   ? ((const uint8_t *)t->data)[i]
                      : t->kind == 2 ? ((const uint16_t *)t->data)[i]
                                     : ((const uint32_t *)t->data)[i];
        if (cp < N_CODEPOINTS && st->table[cp] == CLS_UNKNOWN && !st->unknown[cp >> BLOCK_SHIFT]) {
            st->unknown[cp >> BLOCK_SHIFT] = 1;
            st->n_unknown++;
        }
    }
}

/* Hash of every window of `w` consecutive token hashes (shingle._combine): out[j] =
 * fmix64(w * GOLDEN + sum_p tok[j + p] * POSITION[p]) for j in 0 .. n_tok - w.
 * Scalar on purpose: SSE2 and AVX2 have no 64-bit lane multiply, and the emulated one
 * is no faster than the scalar multiplier. */
static void window_hashes(const uint64_t *RESTRICT tok, size_t n_tok, size_t w, uint64_t *RESTRICT out) {
    size_t m = n_tok - w + 1;
    uint64_t init = (uint64_t)w * GOLDEN;
    for (size_t j = 0; j < m; j++) {
        uint64_t acc = init;
        for (size_t p = 0; p < w; p++)
            acc += tok[j + p] * POSITION[p];
        out[j] = fmix64(acc);
    }
}

/* Hashes of the short lines (1 to SHORT_LINE_TOKENS tokens) into out; returns how many.
 * line_hash: fmix64(sum of fmix64(token ^ previous token in the line * POSITION[1]) +
 * token count * GOLDEN). Line i holds tokens breaks[i - 1] .. breaks[i] - 1. */
static size_t short_lines(const uint64_t *RESTRICT tok, size_t n_tok, const uint64_t *RESTRICT breaks,
                          size_t n_breaks, uint64_t *RESTRICT out) {
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= n_breaks; i++) {
        size_t end = i < n_breaks ? (size_t)breaks[i] : n_tok;
        size_t count = end - start;
        if (count >= 1 && count <= SHORT_LINE_TOKENS) {
            uint64_t acc = 0, prev = 0;
            for (size_t j = start; j < end; j++) {
                acc += fmix64(tok[j] ^ (prev * POSITION[1]));
                prev = tok[j];
            }
            out[n++] = fmix64(acc + (uint64_t)count * GOLDEN);
        }
        start = end;
    }
    return n;
}

/* Shingle document d; 0 on success, -1 when out of memory. */
static int shingle_doc(shingler *st, size_t d, const text_ref *t) {
    if (st->n_unknown) { /* results are void already: only collect unknown blocks */
        scan_unknown(st, t);
        st->offsets[d + 1] = (int64_t)st->hashes.len;
        st->words[d] = 0;
        return 0;
    }
    /* At most one token per code point (plus the scan's spare slot), one "\n" per code
     * point, one short line per "\n" plus one. */
    st->tok.len = st->breaks.len = 0;
    if (u64_reserve(&st->tok, t->len + 1) < 0 || u64_reserve(&st->breaks, t->len + 1) < 0)
        return -1;
    size_t n_breaks, n_solo;
    uint64_t *tok = st->tok.data;
    size_t n_tok = tokenize(tok, st->breaks.data, &n_breaks, &n_solo, st, t);
    for (size_t i = 0; i < n_tok; i++)
        tok[i] = fmix64(tok[i]);
    st->words[d] = (int64_t)n_tok;

    if (n_tok) {
        /* Character n-grams for text that is mostly unspaced script (_shingle_size);
         * a document shorter than its shingle size has one shingle of all its tokens. */
        size_t size = (size_t)((st->char_k != st->k && 2 * n_solo > n_tok) ? st->char_k : st->k);
        size_t w = size < n_tok ? size : n_tok;
        size_t m = n_tok - w + 1;
        if (u64_reserve(&st->hashes, m) < 0)
            return -1;
        uint64_t *out = st->hashes.data + st->hashes.len;
        window_hashes(tok, n_tok, w, out);
        size_t kept = sort_unique_u64(&st->sort, out, m);
        if (kept == (size_t)-1)
            return -1;
        st->hashes.len += kept;
    }
    st->offsets[d + 1] = (int64_t)st->hashes.len;

    if (u64_reserve(&st->line_hashes, n_breaks + 1) < 0)
        return -1;
    uint64_t *lines = st->line_hashes.data + st->line_hashes.len;
    size_t n_lines = sort_unique_u64(&st->sort, lines, short_lines(tok, n_tok, st->breaks.data, n_breaks, lines));
    if (n_lines == (size_t)-1 || i64_reserve(&st->line_docs, n_lines) < 0)
        return -1;
    st->line_hashes.len += n_lines;
    for (size_t i = 0; i < n_lines; i++)
        st->line_docs.data[st->line_docs.len++] = (int64_t)d;
    return 0;
}

static PyObject *bytearray_of(const void *data, size_t n_bytes) {
    return PyByteArray_FromStringAndSize(n_bytes ? (const char *)data : "", (Py_ssize_t)n_bytes);
}

PyDoc_STRVAR(shingle_doc_str,
             "shingle(texts, k, char_k, table) -> tuple[bytearray, ...] | list[int]\n\n"
             "Shingle a batch of texts (a sequence of str), each folded by shingle._fold or\n"
             "pure ASCII (lowercased here). `table` is the uint8 class table over all\n"
             "0x110000 code points (shingle._class_table()), read only.\n"
             "Returns (offsets int64, hashes uint64, words int64, line_hashes uint64, line_docs\n"
             "int64) as native-endian bytearrays, or, when some code point's class is still\n"
             "unknown (255), the sorted list of 256-code-point block numbers to fill first.");

static PyObject *k_shingle(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *texts_in;
    int k, char_k;
    Py_buffer table = {0};
    if (!PyArg_ParseTuple(args, "Oiiy*:shingle", &texts_in, &k, &char_k, &table))
        return NULL;

    PyObject *result = NULL;
    PyObject *texts = NULL;
    text_ref *refs = NULL;
    shingler st;
    memset(&st, 0, sizeof st);

    if (k < 1 || k > MAX_SHINGLE_SIZE || char_k < 1 || char_k > MAX_SHINGLE_SIZE) {
        PyErr_Format(PyExc_ValueError, "shingle sizes must be between 1 and %d", MAX_SHINGLE_SIZE);
        goto done;
    }
    if (table.len != N_CODEPOINTS) {
        PyErr_Format(PyExc_ValueError, "class table must have %d entries", N_CODEPOINTS);
        goto done;
    }
    /* A tuple keeps every text alive while the GIL is released, even if the caller's
     * list is changed by another thread meanwhile. */
    texts = PySequence_Tuple(texts_in);
    if (!texts)
        goto done;
    size_t n = (size_t)PyTuple_GET_SIZE(texts);
    refs = PyMem_Malloc((n ? n : 1) * sizeof *refs);
    st.offsets = PyMem_Calloc(n + 1, sizeof(int64_t));
    st.words = PyMem_Calloc(n ? n : 1, sizeof(int64_t));
    st.unknown = PyMem_Calloc(N_BLOCKS, 1);
    if (!refs || !st.offsets || !st.words || !st.unknown) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        PyObject *s = PyTuple_GET_ITEM(texts, i);
        if (!PyUnicode_Check(s)) {
            PyErr_Format(PyExc_TypeError, "texts must be str, not %.100s", Py_TYPE(s)->tp_name);
            goto done;
        }
#if PY_VERSION_HEX < 0x030C0000
        if (PyUnicode_READY(s) < 0)
            goto done;
#endif
        refs[i].kind = (int)PyUnicode_KIND(s);
        refs[i].data = PyUnicode_DATA(s);
        refs[i].len = (size_t)PyUnicode_GET_LENGTH(s);
    }
    st.table = table.buf;
    memcpy(st.cls1, st.table, sizeof st.cls1);
    st.cls1['\n'] = CLS_NEWLINE;
    st.k = k;
    st.char_k = char_k;

    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    for (size_t d = 0; d < n && !failed; d++)
        failed = shingle_doc(&st, d, &refs[d]) < 0;
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }

    if (st.n_unknown) {
        result = PyList_New(0);
        for (size_t b = 0; result && b < N_BLOCKS; b++) {
            if (!st.unknown[b])
                continue;
            PyObject *num = PyLong_FromSize_t(b);
            if (!num || PyList_Append(result, num) < 0)
                Py_CLEAR(result);
            Py_XDECREF(num);
        }
        goto done;
    }
    PyObject *parts[5] = {
        bytearray_of(st.offsets, (n + 1) * sizeof(int64_t)),
        bytearray_of(st.hashes.data, st.hashes.len * sizeof(uint64_t)),
        bytearray_of(st.words, n * sizeof(int64_t)),
        bytearray_of(st.line_hashes.data, st.line_hashes.len * sizeof(uint64_t)),
        bytearray_of(st.line_docs.data, st.line_docs.len * sizeof(int64_t)),
    };
    if (parts[0] && parts[1] && parts[2] && parts[3] && parts[4])
        result = PyTuple_Pack(5, parts[0], parts[1], parts[2], parts[3], parts[4]);
    for (int i = 0; i < 5; i++)
        Py_XDECREF(parts[i]);

done:
    free(st.tok.data);
    free(st.breaks.data);
    free(st.hashes.data);
    free(st.line_hashes.data);
    free(st.line_docs.data);
    free(st.sort.tmp);
    free(st.sort.count);
    PyMem_Free(st.offsets);
    PyMem_Free(st.words);
    PyMem_Free(st.unknown);
    PyMem_Free(refs);
    Py_XDECREF(texts);
    PyBuffer_Release(&table);
    return result;
}

/* ------------------------------------------------------------------------------------
 * MinHash (datasketch 2.x affine32): slot p of document d is the minimum over its
 * shingles of a[p] * fmix32(low 32 bits of the shingle hash) + b[p] mod 2**32.
 *
 * The permutation loop is the innermost one: for each shingle, update a block of
 * minima, a uint32 multiply, add and min per slot that the compiler vectorises. The
 * x86 baseline (SSE2) has neither a 32-bit lane multiply nor an unsigned 32-bit min,
 * so the same loop is also compiled for SSE4.1 and AVX2 and picked at run time with
 * __builtin_cpu_supports; no -march flag is needed and the module runs on any x86-64.
 * ------------------------------------------------------------------------------------ */

typedef void (*minhash_fn)(const uint64_t *, const int64_t *, size_t, const uint32_t *, const uint32_t *,
                           size_t, uint32_t *, uint32_t *);

/* Slots are done MINHASH_BLOCK at a time over all of a document's shingles: the block's
 * minima stay in registers (four AVX2 registers) instead of being loaded and stored once
 * per shingle, and the shingles' fmix32 values are computed once into `xs`. */
#define MINHASH_BLOCK 32

static ALWAYS_INLINE void minhash_block(const uint32_t *RESTRICT xs, size_t n, const uint32_t *RESTRICT a,
                                        const uint32_t *RESTRICT b, uint32_t *RESTRICT row) {
    uint32_t acc[MINHASH_BLOCK];
    for (size_t p = 0; p < MINHASH_BLOCK; p++)
        acc[p] = EMPTY_SLOT;
    for (size_t s = 0; s < n; s++) {
        uint32_t x = xs[s];
        for (size_t p = 0; p < MINHASH_BLOCK; p++) {
            uint32_t v = a[p] * x + b[p];
            acc[p] = v < acc[p] ? v : acc[p];
        }
    }
    for (size_t p = 0; p < MINHASH_BLOCK; p++)
        row[p] = acc[p];
}

static ALWAYS_INLINE void minhash_body(const uint64_t *RESTRICT h, const int64_t *RESTRICT off, size_t n_docs,
                                       const uint32_t *RESTRICT a, const uint32_t *RESTRICT b, size_t n_perm,
                                       uint32_t *RESTRICT out, uint32_t *RESTRICT xs) {
    size_t blocked = n_perm - n_perm % MINHASH_BLOCK;
    for (size_t d = 0; d < n_docs; d++) {
        uint32_t *RESTRICT row = out + d * n_perm;
        size_t n = (size_t)(off[d + 1] - off[d]);
        const uint64_t *RESTRICT hd = h + off[d];
        for (size_t s = 0; s < n; s++)
            xs[s] = fmix32((uint32_t)hd[s]);
        for (size_t p0 = 0; p0 < blocked; p0 += MINHASH_BLOCK)
            minhash_block(xs, n, a + p0, b + p0, row + p0);
        for (size_t p = blocked; p < n_perm; p++) { /* the slots past the last whole block */
            uint32_t m = EMPTY_SLOT;
            for (size_t s = 0; s < n; s++) {
                uint32_t v = a[p] * xs[s] + b[p];
                m = v < m ? v : m;
            }
            row[p] = m;
        }
    }
}

static void minhash_generic(const uint64_t *h, const int64_t *off, size_t n_docs, const uint32_t *a,
                            const uint32_t *b, size_t n_perm, uint32_t *out, uint32_t *xs) {
    minhash_body(h, off, n_docs, a, b, n_perm, out, xs);
}

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define HAVE_X86_CLONES 1
__attribute__((target("sse4.1"))) static void minhash_sse41(const uint64_t *h, const int64_t *off, size_t n_docs,
                                                            const uint32_t *a, const uint32_t *b, size_t n_perm,
                                                            uint32_t *out, uint32_t *xs) {
    minhash_body(h, off, n_docs, a, b, n_perm, out, xs);
}

__attribute__((target("avx2"))) static void minhash_avx2(const uint64_t *h, const int64_t *off, size_t n_docs,
                                                         const uint32_t *a, const uint32_t *b, size_t n_perm,
                                                         uint32_t *out, uint32_t *xs) {
    minhash_body(h, off, n_docs, a, b, n_perm, out, xs);
}
#endif

static minhash_fn minhash_impl = minhash_generic;
static const char *minhash_isa = "generic";

static void pick_minhash(void) {
#ifdef HAVE_X86_CLONES
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) {
        minhash_impl = minhash_avx2;
        minhash_isa = "avx2";
    } else if (__builtin_cpu_supports("sse4.1")) {
        minhash_impl = minhash_sse41;
        minhash_isa = "sse4.1";
    }
#endif
}

PyDoc_STRVAR(minhash_doc_str,
             "minhash(hashes, offsets, a, b, out) -> None\n\n"
             "Fill `out` (a writable C-contiguous buffer of n_docs * num_perm uint32) with the\n"
             "MinHash rows of the CSR shingle sets (hashes uint64, offsets int64 of n_docs + 1)\n"
             "under the permutations a, b (uint32, num_perm each). Empty sets give all-EMPTY rows.");

static PyObject *k_minhash(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer hb = {0}, ob = {0}, ab = {0}, bb = {0}, outb = {0};
    if (!PyArg_ParseTuple(args, "y*y*y*y*w*:minhash", &hb, &ob, &ab, &bb, &outb))
        return NULL;
    PyObject *result = NULL;
    size_t n_hashes = (size_t)hb.len / sizeof(uint64_t);
    size_t n_perm = (size_t)ab.len / sizeof(uint32_t);
    size_t n_docs = (size_t)ob.len / sizeof(int64_t);
    const int64_t *off = ob.buf;
    if (hb.len % sizeof(uint64_t) || ob.len % sizeof(int64_t) || n_docs < 1 || ab.len % sizeof(uint32_t) ||
        ab.len != bb.len) {
        PyErr_SetString(PyExc_ValueError, "minhash: malformed hashes, offsets or permutations");
        goto done;
    }
    n_docs -= 1;
    if ((size_t)outb.len != n_docs * n_perm * sizeof(uint32_t)) {
        PyErr_SetString(PyExc_ValueError, "minhash: output buffer must hold n_docs * num_perm uint32");
        goto done;
    }
    /* Offsets index the hash array: they must be non-decreasing and in bounds. */
    for (size_t d = 0; d <= n_docs; d++) {
        if (off[d] < 0 || (size_t)off[d] > n_hashes || (d && off[d] < off[d - 1])) {
            PyErr_SetString(PyExc_ValueError, "minhash: offsets must be non-decreasing within the hashes");
            goto done;
        }
    }
    size_t longest = 0; /* the largest set: the size of the fmix32 buffer */
    for (size_t d = 0; d < n_docs; d++)
        if ((size_t)(off[d + 1] - off[d]) > longest)
            longest = (size_t)(off[d + 1] - off[d]);
    uint32_t *xs = PyMem_Malloc((longest ? longest : 1) * sizeof(uint32_t));
    if (!xs) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    minhash_impl(hb.buf, off, n_docs, ab.buf, bb.buf, n_perm, outb.buf, xs);
    Py_END_ALLOW_THREADS
    PyMem_Free(xs);
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&hb);
    PyBuffer_Release(&ob);
    PyBuffer_Release(&ab);
    PyBuffer_Release(&bb);
    PyBuffer_Release(&outb);
    return result;
}

PyDoc_STRVAR(constants_doc_str,
             "constants() -> dict\n\n"
             "The hash constants compiled in, for kernel.py to compare with dedup.shingle's.");

static PyObject *k_constants(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    PyObject *pos = PyTuple_New(MAX_SHINGLE_SIZE);
    if (!pos)
        return NULL;
    for (int i = 0; i < MAX_SHINGLE_SIZE; i++) {
        PyObject *v = PyLong_FromUnsignedLongLong(POSITION[i]);
        if (!v) {
            Py_DECREF(pos);
            return NULL;
        }
        PyTuple_SET_ITEM(pos, i, v);
    }
    return Py_BuildValue("{s:K,s:K,s:N,s:i,s:i,s:I,s:s}", "base", (unsigned long long)BASE, "golden",
                         (unsigned long long)GOLDEN, "position", pos, "short_line_tokens", SHORT_LINE_TOKENS,
                         "max_shingle_size", MAX_SHINGLE_SIZE, "empty", (unsigned int)EMPTY_SLOT, "minhash_isa",
                         minhash_isa);
}

static PyMethodDef kernel_methods[] = {
    {"shingle", k_shingle, METH_VARARGS, shingle_doc_str},
    {"minhash", k_minhash, METH_VARARGS, minhash_doc_str},
    {"constants", k_constants, METH_NOARGS, constants_doc_str},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef kernel_module = {
    PyModuleDef_HEAD_INIT,
    "dedup._kernel",
    "Compiled shingling and MinHash for dedup (see dedup/kernel.py).",
    -1,
    kernel_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__kernel(void) {
    init_positions();
    init_powers();
    pick_minhash();
    return PyModule_Create(&kernel_module);
}
