/* stream.c — a layer's bytes on their way in: read once, hashed twice, decompressed, capped.
 *
 * The concept: an OCI layer has two names, the digest of the blob as stored (compressed) and the
 * DiffID of the tar inside (uncompressed). Both are computed in the same single pass that feeds
 * the tar extractor, so a 500 MB layer is read exactly once and never held in memory.
 *
 * How: produce() is the whole pipeline for one output chunk (source read → blob hash → compressed
 * tee → zlib/libzstd → DiffID hash → uncompressed tee → size cap). Without `threaded` the reader
 * calls it inline; with `threaded` a producer thread calls it and hands the chunks over through a
 * ring of LB_STREAM_NBUF buffers guarded by one mutex and two condition variables, so
 * decompression and hashing run on one core while the extractor writes files on the other.
 * The same function does the work in both modes, which is why they give identical results.
 *
 * Sits on zlib (inflate with gzip framing: CRC-32 and ISIZE are checked), libzstd (streaming,
 * any number of frames), lb_sha256 (OpenSSL), pthreads.
 *
 * Interface: lb_compression_detect, lb_source_fd, lb_layer_stream_new, lb_layer_stream_read,
 *            lb_layer_stream_finish, lb_layer_stream_free
 *            (lb_compression_name is defined in src/image/archive.c, see stream.h)
 */
#include "layer/stream.h"
#include "core/util.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#define LB_STREAM_CHUNK  (1u << 20) /* one output chunk, and the input buffer */
#define LB_STREAM_NBUF   4          /* chunks in flight between producer and consumer */
#define LB_STREAM_DIRECT (1u << 18) /* inline mode: reads this big skip the internal buffer */

struct lb_layer_stream {
    /* What the caller asked for. */
    lb_source_fn source;
    void *source_data;
    lb_sink_fn tee_compressed;
    void *tee_compressed_data;
    lb_sink_fn tee_uncompressed;
    void *tee_uncompressed_data;
    uint64_t max;
    char *what;
    bool threaded;

    /* Producer state: touched only by produce(), i.e. by the producer thread while it runs; the
     * consumer reads it after joining that thread. */
    bool sniffed;
    enum lb_compression comp;
    unsigned char *in; /* LB_STREAM_CHUNK bytes of compressed input */
    size_t in_pos, in_len;
    bool src_eof;
    struct lb_sha256 h_blob, h_tar; /* plain input: h_blob only (the bytes are the same) */
    uint64_t blob_size, tar_size;
    z_stream z;
    bool z_ready, gz_member_end;
    ZSTD_DCtx *zd;
    size_t zret;              /* last ZSTD_decompressStream result: 0 = at a frame boundary */
    bool ended;               /* the compressed stream ended properly */
    struct lb_error *pending; /* an error to report after the output produced before it */

    /* Consumer state. */
    const unsigned char *cur; /* the chunk being read */
    size_t cur_pos, cur_len;
    bool eof;
    struct lb_error *error; /* sticky: every later call reports it again */
    bool finished;
    struct lb_layer_stream_result result;
    unsigned char *outbuf; /* inline mode */

    /* Threaded mode: a ring of chunks. The producer fills bufs[head], the consumer reads
     * bufs[tail]; `count` chunks are full. The consumer keeps its chunk (holding) until it has
     * read all of it, so the producer never writes into the chunk being read. */
    bool thread_started;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    unsigned char *bufs[LB_STREAM_NBUF];
    size_t lens[LB_STREAM_NBUF];
    unsigned head, tail, count;
    bool holding;
    bool prod_done;            /* the producer returned: end of data or prod_err */
    bool stop;                 /* lb_layer_stream_free wants the producer gone */
    struct lb_error *prod_err; /* handed to the consumer under mu */
};

enum lb_compression lb_compression_detect(const void *buf, size_t len)
{
    const unsigned char *b = buf;
    if (len < 4)
        return LB_COMP_NONE;
    if (b[0] == 0x1f && b[1] == 0x8b)
        return LB_COMP_GZIP;
    if (b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
        return LB_COMP_ZSTD;
    return LB_COMP_NONE;
}

ssize_t lb_source_fd(void *data, void *buf, size_t len, struct lb_error **err)
{
    int fd = *(int *)data;
    for (;;) {
        ssize_t n = read(fd, buf, len);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return lb_error_set(err, errno, "cannot read");
    }
}

/* Hand e over to *err (which keeps its first error, as lb_error_set does). */
static int error_move(struct lb_error **err, struct lb_error **e)
{
    if (err && *err == NULL)
        *err = *e;
    else
        lb_error_free(*e);
    *e = NULL;
    return -1;
}

/* Report a copy of a sticky error. */
static int error_copy(struct lb_error **err, const struct lb_error *e)
{
    return lb_error_setk(err, e->kind, e->code, "%s", e->msg);
}

/* --- the producer: one chunk of the pipeline -------------------------------------------------- */

static int tee(struct lb_layer_stream *s, lb_sink_fn sink, void *data, const void *buf, size_t len,
               struct lb_error **err)
{
    struct lb_error *e = NULL;
    if (sink(data, buf, len, &e) == 0)
        return 0;
    if (e == NULL)
        lb_error_set(&e, 0, "cannot write a copy of the layer");
    lb_error_wrap(&e, "%s", s->what);
    return error_move(err, &e);
}

/* Read compressed bytes, hash and tee them. Returns the count, 0 at the end, -1. */
static ssize_t source_read(struct lb_layer_stream *s, unsigned char *buf, size_t len,
                           struct lb_error **err)
{
    struct lb_error *e = NULL;
    ssize_t n = s->source(s->source_data, buf, len, &e);
    if (n < 0) {
        if (e == NULL)
            lb_error_set(&e, 0, "cannot read");
        lb_error_wrap(&e, "%s", s->what);
        return error_move(err, &e);
    }
    if (n == 0) {
        s->src_eof = true;
        return 0;
    }
    lb_sha256_update(&s->h_blob, buf, (size_t)n);
    s->blob_size += (uint64_t)n;
    if (s->tee_compressed &&
        tee(s, s->tee_compressed, s->tee_compressed_data, buf, (size_t)n, err) < 0)
        return -1;
    return n;
}

/* Append more compressed input to s->in (moving what is left to the front first). */
static int read_more(struct lb_layer_stream *s, struct lb_error **err)
{
    if (s->in_pos > 0) {
        memmove(s->in, s->in + s->in_pos, s->in_len - s->in_pos);
        s->in_len -= s->in_pos;
        s->in_pos = 0;
    }
    if (s->in_len == LB_STREAM_CHUNK)
        return 0;
    ssize_t n = source_read(s, s->in + s->in_len, LB_STREAM_CHUNK - s->in_len, err);
    if (n < 0)
        return -1;
    s->in_len += (size_t)n;
    return 0;
}

static int truncated(struct lb_layer_stream *s, struct lb_error **err)
{
    return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s: %s data is truncated", s->what,
                         lb_compression_name(s->comp));
}

static int sniff(struct lb_layer_stream *s, struct lb_error **err)
{
    while (s->in_len < 4 && !s->src_eof)
        if (read_more(s, err) < 0)
            return -1;
    s->comp = lb_compression_detect(s->in, s->in_len);
    /* Two or three bytes of gzip magic are a truncated gzip stream, not a tiny plain one. */
    if (s->comp == LB_COMP_NONE && s->in_len >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b)
        s->comp = LB_COMP_GZIP;
    if (s->comp == LB_COMP_GZIP) {
        memset(&s->z, 0, sizeof(s->z));
        int r = inflateInit2(&s->z, 15 + 16); /* gzip framing only: header, CRC-32, ISIZE */
        if (r == Z_MEM_ERROR)
            lb_oom();
        if (r != Z_OK)
            return lb_error_set(err, 0, "%s: cannot start zlib (error %d)", s->what, r);
        s->z_ready = true;
    } else if (s->comp == LB_COMP_ZSTD) {
        s->zd = ZSTD_createDCtx();
        if (s->zd == NULL)
            lb_oom();
    } else {
        lb_sha256_release(&s->h_tar); /* plain: the blob hash is the DiffID */
    }
    s->sniffed = true;
    return 0;
}

static int decode_plain(struct lb_layer_stream *s, unsigned char *out, size_t cap, size_t *n,
                        struct lb_error **err)
{
    if (s->in_pos < s->in_len) { /* the bytes read for the sniff */
        size_t k = s->in_len - s->in_pos < cap ? s->in_len - s->in_pos : cap;
        memcpy(out, s->in + s->in_pos, k);
        s->in_pos += k;
        *n = k;
        return 0;
    }
    while (*n < cap && !s->src_eof) {
        ssize_t r = source_read(s, out + *n, cap - *n, err);
        if (r < 0)
            return -1;
        *n += (size_t)r;
    }
    if (*n == 0)
        s->ended = true;
    return 0;
}

static int decode_gzip(struct lb_layer_stream *s, unsigned char *out, size_t cap, size_t *n,
                       struct lb_error **err)
{
    z_stream *z = &s->z;
    z->next_out = out;
    z->avail_out = (uInt)cap;
    int rc = 0;
    while (z->avail_out > 0) {
        if (s->in_pos == s->in_len && !s->src_eof) {
            if ((rc = read_more(s, err)) < 0)
                break;
            continue;
        }
        if (s->gz_member_end) {
            size_t left = s->in_len - s->in_pos;
            if (left == 0) { /* the source ended right after a member: a proper end */
                s->ended = true;
                break;
            }
            if (left < 2 && !s->src_eof) {
                if ((rc = read_more(s, err)) < 0)
                    break;
                continue;
            }
            /* Another member (pigz, concatenated files) or garbage. */
            if (left < 2 || s->in[s->in_pos] != 0x1f || s->in[s->in_pos + 1] != 0x8b) {
                rc = lb_error_setk(err, LB_EKIND_INVALID, 0,
                                   "%s: unexpected data after the end of the gzip stream "
                                   "(at byte %" PRIu64 ")",
                                   s->what, s->blob_size - left);
                break;
            }
            inflateReset(z);
            s->gz_member_end = false;
        }
        if (s->in_pos == s->in_len) { /* source ended inside a member */
            rc = truncated(s, err);
            break;
        }
        size_t avail = s->in_len - s->in_pos;
        z->next_in = s->in + s->in_pos;
        z->avail_in = (uInt)avail;
        int r = inflate(z, Z_NO_FLUSH);
        s->in_pos += avail - z->avail_in;
        if (r == Z_STREAM_END) {
            s->gz_member_end = true;
        } else if (r == Z_MEM_ERROR) {
            lb_oom();
        } else if (r == Z_DATA_ERROR || r == Z_NEED_DICT || r == Z_STREAM_ERROR) {
            rc = lb_error_setk(err, LB_EKIND_INVALID, 0, "%s: corrupt gzip data: %s", s->what,
                               r == Z_NEED_DICT ? "needs a preset dictionary"
                               : z->msg         ? z->msg
                                                : "zlib error");
            break;
        } else if (r == Z_BUF_ERROR && z->avail_in > 0) { /* no progress with room both sides */
            rc = lb_error_setk(err, LB_EKIND_INVALID, 0, "%s: corrupt gzip data", s->what);
            break;
        }
        /* Z_OK, or Z_BUF_ERROR when all input was used: the loop reads more. */
    }
    *n = cap - z->avail_out;
    return rc;
}

static int zstd_failed(struct lb_layer_stream *s, size_t r, struct lb_error **err)
{
    if (ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge)
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "%s: zstd frame needs a window larger than zstd's default limit "
                             "(made with --long or --ultra?)",
                             s->what);
    return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s: corrupt zstd data: %s", s->what,
                         ZSTD_getErrorName(r));
}

static int decode_zstd(struct lb_layer_stream *s, unsigned char *out, size_t cap, size_t *n,
                       struct lb_error **err)
{
    ZSTD_outBuffer ob = {out, cap, 0};
    int rc = 0;
    while (ob.pos < ob.size) {
        if (s->in_pos == s->in_len && !s->src_eof) {
            if ((rc = read_more(s, err)) < 0)
                break;
            continue;
        }
        ZSTD_inBuffer ib = {s->in + s->in_pos, s->in_len - s->in_pos, 0};
        if (ib.size == 0) { /* source ended */
            if (s->zret == 0) {
                s->ended = true;
                break;
            }
            /* The decoder may still hold output from a previous call with a full buffer. */
            size_t before = ob.pos;
            size_t r = ZSTD_decompressStream(s->zd, &ob, &ib);
            if (ZSTD_isError(r)) {
                rc = zstd_failed(s, r, err);
                break;
            }
            s->zret = r;
            if (r != 0 && ob.pos == before) {
                rc = truncated(s, err);
                break;
            }
            continue;
        }
        size_t r = ZSTD_decompressStream(s->zd, &ob, &ib);
        s->in_pos += ib.pos;
        if (ZSTD_isError(r)) {
            rc = zstd_failed(s, r, err);
            break;
        }
        s->zret = r;
    }
    *n = ob.pos;
    return rc;
}

/* Fill out with up to cap decompressed bytes, hashed, teed and counted against the cap.
 * Returns the count (> 0), 0 at a proper end, -1. An error found after some output was made is
 * reported on the next call, so every mode and buffer size sees the same bytes first. */
static ssize_t produce(struct lb_layer_stream *s, unsigned char *out, size_t cap,
                       struct lb_error **err)
{
    if (s->pending)
        return error_move(err, &s->pending);
    if (s->ended)
        return 0;
    if (!s->sniffed && sniff(s, err) < 0)
        return -1;

    struct lb_error *e = NULL;
    size_t n = 0;
    int r;
    if (s->comp == LB_COMP_GZIP)
        r = decode_gzip(s, out, cap, &n, &e);
    else if (s->comp == LB_COMP_ZSTD)
        r = decode_zstd(s, out, cap, &n, &e);
    else
        r = decode_plain(s, out, cap, &n, &e);

    if (n > s->max - s->tar_size) { /* deliver up to the limit exactly, then fail */
        n = (size_t)(s->max - s->tar_size);
        lb_error_free(e);
        e = NULL;
        r = lb_error_setk(&e, LB_EKIND_INVALID, 0,
                          s->comp == LB_COMP_NONE ? "%s goes beyond the %" PRIu64 "-byte limit"
                                                  : "%s expands beyond the %" PRIu64
                                                    "-byte limit (a decompression bomb?)",
                          s->what, s->max);
    }
    if (n > 0) {
        if (s->comp != LB_COMP_NONE)
            lb_sha256_update(&s->h_tar, out, n);
        s->tar_size += n;
        if (s->tee_uncompressed &&
            tee(s, s->tee_uncompressed, s->tee_uncompressed_data, out, n, err) < 0) {
            lb_error_free(e);
            return -1;
        }
    }
    if (r < 0) {
        if (n == 0)
            return error_move(err, &e);
        s->pending = e;
    }
    return (ssize_t)n;
}

/* --- threaded mode: the producer thread and the ring ------------------------------------------ */

static void *producer_main(void *arg)
{
    struct lb_layer_stream *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (s->count == LB_STREAM_NBUF && !s->stop)
            pthread_cond_wait(&s->not_full, &s->mu);
        if (s->stop) {
            s->prod_done = true;
            pthread_mutex_unlock(&s->mu);
            return NULL;
        }
        unsigned slot = s->head;
        pthread_mutex_unlock(&s->mu);

        struct lb_error *e = NULL;
        ssize_t n = produce(s, s->bufs[slot], LB_STREAM_CHUNK, &e);

        pthread_mutex_lock(&s->mu);
        if (n > 0) {
            s->lens[slot] = (size_t)n;
            s->head = (s->head + 1) % LB_STREAM_NBUF;
            s->count++;
            pthread_cond_signal(&s->not_empty);
            pthread_mutex_unlock(&s->mu);
            continue;
        }
        s->prod_err = e; /* NULL at a proper end */
        s->prod_done = true;
        pthread_cond_signal(&s->not_empty);
        pthread_mutex_unlock(&s->mu);
        return NULL;
    }
}

/* The consumer is done with its chunk: give it back to the producer. */
static void release_chunk(struct lb_layer_stream *s)
{
    s->cur = NULL;
    s->cur_pos = s->cur_len = 0;
    if (!s->holding)
        return;
    pthread_mutex_lock(&s->mu);
    s->tail = (s->tail + 1) % LB_STREAM_NBUF;
    s->count--;
    s->holding = false;
    pthread_cond_signal(&s->not_full);
    pthread_mutex_unlock(&s->mu);
}

/* Make s->cur the next chunk. Returns 1, 0 at the end, -1 (and s->error is set). */
static int next_chunk(struct lb_layer_stream *s)
{
    struct lb_error *e = NULL;
    if (!s->threaded) {
        ssize_t n = produce(s, s->outbuf, LB_STREAM_CHUNK, &e);
        if (n < 0) {
            s->error = e;
            return -1;
        }
        s->cur = s->outbuf;
        s->cur_pos = 0;
        s->cur_len = (size_t)n;
        if (n == 0)
            s->eof = true;
        return n > 0;
    }
    release_chunk(s);
    pthread_mutex_lock(&s->mu);
    while (s->count == 0 && !s->prod_done)
        pthread_cond_wait(&s->not_empty, &s->mu);
    if (s->count > 0) {
        s->cur = s->bufs[s->tail];
        s->cur_len = s->lens[s->tail];
        s->cur_pos = 0;
        s->holding = true;
        pthread_mutex_unlock(&s->mu);
        return 1;
    }
    e = s->prod_err;
    s->prod_err = NULL;
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    s->thread_started = false;
    if (e) {
        s->error = e;
        return -1;
    }
    s->eof = true;
    return 0;
}

/* --- the public side ---------------------------------------------------------------------------
 */

static int max_from_env(uint64_t *out, struct lb_error **err)
{
    const char *v = getenv("LB_MAX_LAYER_BYTES");
    *out = LB_LAYER_MAX_BYTES_DEFAULT;
    if (v == NULL || *v == '\0')
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno != 0 || *end != '\0' || x == 0 || v[0] < '0' || v[0] > '9')
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "invalid LB_MAX_LAYER_BYTES '%.40s': want a positive number of bytes",
                             v);
    *out = x;
    return 0;
}

struct lb_layer_stream *lb_layer_stream_new(const struct lb_layer_stream_opts *opts,
                                            struct lb_error **err)
{
    if (opts->source == NULL) {
        lb_error_set(err, EINVAL, "layer stream without a source");
        return NULL;
    }
    uint64_t max = opts->max_uncompressed;
    if (max == 0 && max_from_env(&max, err) < 0)
        return NULL;

    struct lb_layer_stream *s = lb_xmalloc(sizeof(*s));
    s->source = opts->source;
    s->source_data = opts->source_data;
    s->tee_compressed = opts->tee_compressed;
    s->tee_compressed_data = opts->tee_compressed_data;
    s->tee_uncompressed = opts->tee_uncompressed;
    s->tee_uncompressed_data = opts->tee_uncompressed_data;
    s->max = max;
    s->what = lb_xstrdup(opts->what ? opts->what : "layer");
    s->threaded = opts->threaded;
    s->in = lb_xmalloc(LB_STREAM_CHUNK);
    lb_sha256_init(&s->h_blob);
    lb_sha256_init(&s->h_tar);

    if (!s->threaded) {
        s->outbuf = lb_xmalloc(LB_STREAM_CHUNK);
        return s;
    }
    for (unsigned i = 0; i < LB_STREAM_NBUF; i++)
        s->bufs[i] = lb_xmalloc(LB_STREAM_CHUNK);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->not_empty, NULL);
    pthread_cond_init(&s->not_full, NULL);
    int r = pthread_create(&s->thread, NULL, producer_main, s);
    if (r != 0) {
        lb_error_set(err, r, "%s: cannot start the decompression thread", s->what);
        lb_layer_stream_free(s);
        return NULL;
    }
    s->thread_started = true;
    return s;
}

ssize_t lb_layer_stream_read(struct lb_layer_stream *s, void *buf, size_t len,
                             struct lb_error **err)
{
    if (s->error)
        return error_copy(err, s->error);
    if (s->eof || s->finished || len == 0)
        return 0;
    if (s->cur_pos == s->cur_len) {
        if (!s->threaded && len >= LB_STREAM_DIRECT) {
            /* Big reads go straight into the caller's buffer: no copy. */
            if (len > (1u << 30))
                len = 1u << 30; /* zlib counts in 32 bits */
            struct lb_error *e = NULL;
            ssize_t n = produce(s, buf, len, &e);
            if (n < 0) {
                s->error = e;
                return error_copy(err, s->error);
            }
            if (n == 0)
                s->eof = true;
            return n;
        }
        int r = next_chunk(s);
        if (r < 0)
            return error_copy(err, s->error);
        if (r == 0)
            return 0;
    }
    size_t k = s->cur_len - s->cur_pos < len ? s->cur_len - s->cur_pos : len;
    memcpy(buf, s->cur + s->cur_pos, k);
    s->cur_pos += k;
    if (s->cur_pos == s->cur_len && s->threaded)
        release_chunk(s); /* the producer may refill it while the caller works */
    return (ssize_t)k;
}

int lb_layer_stream_finish(struct lb_layer_stream *s, struct lb_layer_stream_result *out,
                           struct lb_error **err)
{
    if (s->finished) {
        *out = s->result;
        return 0;
    }
    if (s->error)
        return error_copy(err, s->error);
    /* Drain what the reader left (tar padding, or a reader that stopped early), so both digests
     * cover every byte and the end of the compressed stream is checked. */
    while (!s->eof) {
        if (s->threaded)
            release_chunk(s);
        else
            s->cur_pos = s->cur_len;
        if (next_chunk(s) < 0)
            return error_copy(err, s->error);
    }
    release_chunk(s);

    struct lb_layer_stream_result *r = &s->result;
    memset(r, 0, sizeof(*r));
    r->compression = s->comp;
    r->blob_size = s->blob_size;
    r->tar_size = s->tar_size;
    lb_sha256_final(&s->h_blob, &r->blob_digest);
    if (s->comp == LB_COMP_NONE)
        r->diff_id = r->blob_digest; /* hashed once: the same bytes */
    else
        lb_sha256_final(&s->h_tar, &r->diff_id);
    s->finished = true;
    *out = *r;
    return 0;
}

void lb_layer_stream_free(struct lb_layer_stream *s)
{
    if (s == NULL)
        return;
    if (s->threaded) {
        if (s->thread_started) {
            pthread_mutex_lock(&s->mu);
            s->stop = true;
            pthread_cond_broadcast(&s->not_full);
            pthread_mutex_unlock(&s->mu);
            /* A producer inside a source read or a tee finishes that call first. */
            pthread_join(s->thread, NULL);
        }
        pthread_cond_destroy(&s->not_full);
        pthread_cond_destroy(&s->not_empty);
        pthread_mutex_destroy(&s->mu);
        for (unsigned i = 0; i < LB_STREAM_NBUF; i++)
            free(s->bufs[i]);
        lb_error_free(s->prod_err);
    }
    if (s->z_ready)
        inflateEnd(&s->z);
    ZSTD_freeDCtx(s->zd);
    lb_sha256_release(&s->h_blob);
    lb_sha256_release(&s->h_tar);
    lb_error_free(s->pending);
    lb_error_free(s->error);
    free(s->outbuf);
    free(s->in);
    free(s->what);
    free(s);
}
