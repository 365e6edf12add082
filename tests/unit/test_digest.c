/* test_digest.c — SHA-256 content addresses and the validation of digest strings.
 *
 * Expected hashes are the FIPS 180-2 appendix B test vectors (also checked with sha256sum):
 *   ""                                  e3b0c442...b855
 *   "abc"                               ba7816bf...15ad          (B.1)
 *   "abcdbcde...nopq" (448 bits)        248d6a61...06c1          (B.2)
 *   one million 'a'                     cdc76e5c...2cd0          (B.3) */
#include "unit.h"

#include "image/digest.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define EMPTY_HEX   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC_HEX     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define B2_HEX      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
#define MILLION_HEX "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
#define MILLION     1000000

static void test_digest__hashes_the_fips_180_2_vectors(void **state)
{
    (void)state;
    struct lb_digest d;
    lb_digest_buffer(&d, "", 0);
    assert_string_equal(d.str, "sha256:" EMPTY_HEX);
    lb_digest_buffer(&d, "abc", 3);
    assert_string_equal(d.str, "sha256:" ABC_HEX);
    const char *b2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    lb_digest_buffer(&d, b2, strlen(b2));
    assert_string_equal(d.str, "sha256:" B2_HEX);
    assert_string_equal(lb_digest_hex(&d), B2_HEX);
    assert_ptr_equal(lb_digest_hex(&d), d.str + 7);
}

static void test_digest__streaming_in_uneven_chunks_equals_one_shot(void **state)
{
    (void)state;
    char *buf = malloc(MILLION);
    assert_non_null(buf);
    memset(buf, 'a', MILLION);

    struct lb_digest one_shot;
    lb_digest_buffer(&one_shot, buf, MILLION);
    assert_string_equal(one_shot.str, "sha256:" MILLION_HEX);

    /* Chunk sizes straddle SHA-256's 64-byte block: 0, 1, 55, 56, 63, 64, 65, 4097, ... */
    static const size_t sizes[] = {0, 1, 55, 56, 63, 64, 65, 4097, 65536, 3};
    struct lb_sha256 h;
    lb_sha256_init(&h);
    size_t done = 0;
    for (size_t i = 0; done < MILLION; i++) {
        size_t n = sizes[i % LB_ARRAY_SIZE(sizes)];
        if (n > MILLION - done)
            n = MILLION - done;
        lb_sha256_update(&h, buf + done, n);
        done += n;
    }
    assert_int_equal(h.bytes, MILLION);
    struct lb_digest streamed;
    lb_sha256_final(&h, &streamed);
    assert_null(h.ctx);
    assert_true(lb_digest_equal(&streamed, &one_shot));
    lb_sha256_release(&h); /* safe after final */
    free(buf);
}

static void test_digest__release_is_safe_on_zeroed_and_unfinished_hashes(void **state)
{
    (void)state;
    struct lb_sha256 zero = {0};
    lb_sha256_release(&zero);
    struct lb_sha256 h;
    lb_sha256_init(&h);
    lb_sha256_update(&h, "abc", 3);
    lb_sha256_release(&h); /* abandoned: valgrind checks nothing leaks */
    assert_null(h.ctx);
}

static void test_digest__hashes_a_file_through_its_fd(void **state)
{
    (void)state;
    char *dir = lb_unit_mkdtemp();
    char *buf = malloc(MILLION);
    assert_non_null(buf);
    memset(buf, 'a', MILLION);
    lb_unit_write(dir, "million", buf, MILLION); /* larger than the 64 KB read buffer */
    lb_unit_write(dir, "abc", "abc", 3);
    lb_unit_write(dir, "empty", "", 0);
    free(buf);

    static const struct {
        const char *name, *hex;
        uint64_t size;
    } files[] = {{"million", MILLION_HEX, MILLION}, {"abc", ABC_HEX, 3}, {"empty", EMPTY_HEX, 0}};
    for (size_t i = 0; i < LB_ARRAY_SIZE(files); i++) {
        char *path = lb_path_join(dir, files[i].name);
        int fd = open(path, O_RDONLY);
        assert_true(fd >= 0);
        struct lb_digest d;
        uint64_t size = 12345;
        struct lb_error *err = NULL;
        assert_int_equal(lb_digest_fd(&d, &size, fd, &err), 0);
        assert_null(err);
        assert_string_equal(lb_digest_hex(&d), files[i].hex);
        assert_int_equal(size, files[i].size);
        /* size is optional */
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        assert_int_equal(lb_digest_fd(&d, NULL, fd, &err), 0);
        assert_string_equal(lb_digest_hex(&d), files[i].hex);
        close(fd);
        free(path);
    }
    lb_unit_rmdir(dir);
}

static void test_digest__fd_read_errors_are_reported(void **state)
{
    (void)state;
    struct lb_digest d;
    struct lb_error *err = NULL;
    assert_int_equal(lb_digest_fd(&d, NULL, -1, &err), -1);
    assert_int_equal(err->code, EBADF);
    assert_error_contains(err, "cannot read while hashing");

    char *dir = lb_unit_mkdtemp();
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    assert_int_equal(lb_digest_fd(&d, NULL, fd, &err), -1);
    assert_int_equal(err->code, EISDIR);
    assert_error_contains(err, "cannot read while hashing");
    close(fd);
    lb_unit_rmdir(dir);
}

static void test_digest__parse_accepts_a_well_formed_digest(void **state)
{
    (void)state;
    struct lb_digest d;
    struct lb_error *err = NULL;
    assert_int_equal(lb_digest_parse(&d, "sha256:" ABC_HEX, &err), 0);
    assert_null(err);
    assert_string_equal(d.str, "sha256:" ABC_HEX);
    assert_string_equal(lb_digest_hex(&d), ABC_HEX);
}

static void test_digest__parse_rejects_malformed_digests(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", /* upper */
        "sha256:Ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", /* one upper */
        "sha256:a7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",  /* 63 */
        "sha256:" ABC_HEX "0",                                                     /* 65 */
        "sha256:" ABC_HEX "\n",                                                    /* trailing */
        "sha256:../x",
        "sha256:../../../../../../../../../../../../../../../../../../etc/passwd00",
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2001/ad", /* 64 long */
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2001gad",
        "md5:d41d8cd98f00b204e9800998ecf8427e",
        "sha512:" ABC_HEX,
        "SHA256:" ABC_HEX,
        ABC_HEX, /* missing prefix */
        " sha256:" ABC_HEX,
        "sha256:",
        "sha256",
        "",
    };
    for (size_t i = 0; i < LB_ARRAY_SIZE(bad); i++) {
        struct lb_digest d;
        struct lb_error *err = NULL;
        if (lb_digest_parse(&d, bad[i], &err) == 0)
            fail_msg("accepted '%s'", bad[i]);
        assert_non_null(err);
        assert_int_equal(err->kind, LB_EKIND_INVALID);
        assert_int_equal(err->code, 0);
        assert_error_contains(err, "invalid digest");
    }
}

static void test_digest__parse_error_names_the_input(void **state)
{
    (void)state;
    struct lb_digest d;
    struct lb_error *err = NULL;
    assert_int_equal(lb_digest_parse(&d, "md5:abc", &err), -1);
    assert_error_contains(err, "invalid digest 'md5:abc'");
    assert_int_equal(lb_digest_parse(&d, "sha256:../x", &err), -1);
    assert_error_contains(err, "invalid digest 'sha256:../x'");
    assert_int_equal(lb_digest_parse(&d, "sha256:../x", NULL), -1);
}

static void test_digest__from_hex_adds_the_prefix_and_validates(void **state)
{
    (void)state;
    struct lb_digest d;
    struct lb_error *err = NULL;
    assert_int_equal(lb_digest_from_hex(&d, ABC_HEX, &err), 0);
    assert_string_equal(d.str, "sha256:" ABC_HEX);

    static const char *const bad[] = {
        "sha256:" ABC_HEX,
        "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
        "a7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ABC_HEX "0",
        "../../etc/passwd",
        "",
    };
    for (size_t i = 0; i < LB_ARRAY_SIZE(bad); i++) {
        if (lb_digest_from_hex(&d, bad[i], &err) == 0)
            fail_msg("accepted '%s'", bad[i]);
        assert_int_equal(err->kind, LB_EKIND_INVALID);
        assert_error_contains(err, "invalid digest");
    }
}

static void test_digest__is_lower_hex_checks_exactly_n_characters(void **state)
{
    (void)state;
    assert_true(lb_is_lower_hex("", 0));
    assert_true(lb_is_lower_hex("0123456789abcdef", 16));
    assert_true(lb_is_lower_hex("abcX", 3));
    assert_false(lb_is_lower_hex("abcX", 4));
    assert_false(lb_is_lower_hex("abcg", 4));
    assert_false(lb_is_lower_hex("A", 1));
    assert_false(lb_is_lower_hex("/", 1));
    assert_false(lb_is_lower_hex(":", 1));
    assert_false(lb_is_lower_hex("`", 1));
}

static void test_digest__equal_compares_the_whole_string(void **state)
{
    (void)state;
    struct lb_digest a, b, c;
    lb_digest_buffer(&a, "abc", 3);
    lb_digest_buffer(&b, "abc", 3);
    lb_digest_buffer(&c, "abd", 3);
    assert_true(lb_digest_equal(&a, &b));
    assert_false(lb_digest_equal(&a, &c));
}

LB_UNIT_MAIN(cmocka_unit_test(test_digest__hashes_the_fips_180_2_vectors),
             cmocka_unit_test(test_digest__streaming_in_uneven_chunks_equals_one_shot),
             cmocka_unit_test(test_digest__release_is_safe_on_zeroed_and_unfinished_hashes),
             cmocka_unit_test(test_digest__hashes_a_file_through_its_fd),
             cmocka_unit_test(test_digest__fd_read_errors_are_reported),
             cmocka_unit_test(test_digest__parse_accepts_a_well_formed_digest),
             cmocka_unit_test(test_digest__parse_rejects_malformed_digests),
             cmocka_unit_test(test_digest__parse_error_names_the_input),
             cmocka_unit_test(test_digest__from_hex_adds_the_prefix_and_validates),
             cmocka_unit_test(test_digest__is_lower_hex_checks_exactly_n_characters),
             cmocka_unit_test(test_digest__equal_compares_the_whole_string))
