/* test_reference.c — image names parsed and normalised as docker does (distribution/reference).
 *
 * Every expected string below was worked out by hand from the grammar in reference.h and the
 * normalisation rules of distribution/reference (splitDockerDomain, TagNameOnly,
 * familiarizeName), not copied from the program's output. */
#include "unit.h"

#include "image/reference.h"

/* sha256 of the empty string (FIPS 180-2; `printf '' | sha256sum`): a well-formed digest. */
#define H "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct valid_case {
    const char *in;
    int flags;
    const char *domain, *path, *tag, *digest; /* tag/digest NULL when absent */
    const char *string;                       /* lb_reference_string */
    const char *familiar_name;
    const char *familiar_string;
};

static const struct valid_case valid_cases[] = {
    /* Docker Hub official images get docker.io and library/. */
    {"busybox", 0, "docker.io", "library/busybox", "latest", NULL,
     "docker.io/library/busybox:latest", "busybox", "busybox:latest"},
    {"busybox:1.36", 0, "docker.io", "library/busybox", "1.36", NULL,
     "docker.io/library/busybox:1.36", "busybox", "busybox:1.36"},
    {"library/busybox", 0, "docker.io", "library/busybox", "latest", NULL,
     "docker.io/library/busybox:latest", "busybox", "busybox:latest"},
    {"docker.io/busybox", 0, "docker.io", "library/busybox", "latest", NULL,
     "docker.io/library/busybox:latest", "busybox", "busybox:latest"},
    {"docker.io/library/busybox:musl", 0, "docker.io", "library/busybox", "musl", NULL,
     "docker.io/library/busybox:musl", "busybox", "busybox:musl"},
    /* The legacy Hub domain is the same registry. */
    {"index.docker.io/busybox", 0, "docker.io", "library/busybox", "latest", NULL,
     "docker.io/library/busybox:latest", "busybox", "busybox:latest"},
    {"index.docker.io/foo/bar:v1", 0, "docker.io", "foo/bar", "v1", NULL, "docker.io/foo/bar:v1",
     "foo/bar", "foo/bar:v1"},
    /* Two components on the Hub: a user namespace, no library/. */
    {"foo/bar", 0, "docker.io", "foo/bar", "latest", NULL, "docker.io/foo/bar:latest", "foo/bar",
     "foo/bar:latest"},
    {"a1/b2/c3/d4", 0, "docker.io", "a1/b2/c3/d4", "latest", NULL, "docker.io/a1/b2/c3/d4:latest",
     "a1/b2/c3/d4", "a1/b2/c3/d4:latest"},
    /* library/ with a nested path keeps its prefix in the familiar form, or it would re-parse
     * as docker.io/a/b. */
    {"docker.io/library/a/b", 0, "docker.io", "library/a/b", "latest", NULL,
     "docker.io/library/a/b:latest", "library/a/b", "library/a/b:latest"},
    /* localhost is a domain only when followed by '/'. */
    {"localhost/foo", 0, "localhost", "foo", "latest", NULL, "localhost/foo:latest",
     "localhost/foo", "localhost/foo:latest"},
    {"localhost:5000/a/b:tag", 0, "localhost:5000", "a/b", "tag", NULL, "localhost:5000/a/b:tag",
     "localhost:5000/a/b", "localhost:5000/a/b:tag"},
    {"localhost", 0, "docker.io", "library/localhost", "latest", NULL,
     "docker.io/library/localhost:latest", "localhost", "localhost:latest"},
    {"localhost:5000", 0, "docker.io", "library/localhost", "5000", NULL,
     "docker.io/library/localhost:5000", "localhost", "localhost:5000"},
    /* A dot makes a domain; alone, "docker.io" is a valid path component. */
    {"docker.io", 0, "docker.io", "library/docker.io", "latest", NULL,
     "docker.io/library/docker.io:latest", "docker.io", "docker.io:latest"},
    {"quay.io/coreos/etcd:v3.5.0", 0, "quay.io", "coreos/etcd", "v3.5.0", NULL,
     "quay.io/coreos/etcd:v3.5.0", "quay.io/coreos/etcd", "quay.io/coreos/etcd:v3.5.0"},
    {"a-b.example.com/x", 0, "a-b.example.com", "x", "latest", NULL, "a-b.example.com/x:latest",
     "a-b.example.com/x", "a-b.example.com/x:latest"},
    {"example.com:0/x", 0, "example.com:0", "x", "latest", NULL, "example.com:0/x:latest",
     "example.com:0/x", "example.com:0/x:latest"},
    {"192.168.1.1:5000/x", 0, "192.168.1.1:5000", "x", "latest", NULL, "192.168.1.1:5000/x:latest",
     "192.168.1.1:5000/x", "192.168.1.1:5000/x:latest"},
    /* Uppercase makes the first component a domain, and domains keep their case. */
    {"Example.com/foo", 0, "Example.com", "foo", "latest", NULL, "Example.com/foo:latest",
     "Example.com/foo", "Example.com/foo:latest"},
    {"FOO/bar", 0, "FOO", "bar", "latest", NULL, "FOO/bar:latest", "FOO/bar", "FOO/bar:latest"},
    /* IPv6 hosts in brackets, with and without a port. */
    {"[::1]:5000/foo:bar", 0, "[::1]:5000", "foo", "bar", NULL, "[::1]:5000/foo:bar",
     "[::1]:5000/foo", "[::1]:5000/foo:bar"},
    {"[fe80::1]/foo", 0, "[fe80::1]", "foo", "latest", NULL, "[fe80::1]/foo:latest",
     "[fe80::1]/foo", "[fe80::1]/foo:latest"},
    /* Every path separator: '.', '_', '__', one or more '-'. */
    {"foo/a.b_c__d---e", 0, "docker.io", "foo/a.b_c__d---e", "latest", NULL,
     "docker.io/foo/a.b_c__d---e:latest", "foo/a.b_c__d---e", "foo/a.b_c__d---e:latest"},
    /* Tags: \w first (so '_' and uppercase are fine), then \w . - */
    {"foo:_x", 0, "docker.io", "library/foo", "_x", NULL, "docker.io/library/foo:_x", "foo",
     "foo:_x"},
    {"foo:UPPER.case-1_x", 0, "docker.io", "library/foo", "UPPER.case-1_x", NULL,
     "docker.io/library/foo:UPPER.case-1_x", "foo", "foo:UPPER.case-1_x"},
    /* A digest without a tag gets no default tag; with a tag, both are kept. */
    {"busybox@sha256:" H, 0, "docker.io", "library/busybox", NULL, "sha256:" H,
     "docker.io/library/busybox@sha256:" H, "busybox", "busybox@sha256:" H},
    {"busybox:1.36@sha256:" H, 0, "docker.io", "library/busybox", "1.36", "sha256:" H,
     "docker.io/library/busybox:1.36@sha256:" H, "busybox", "busybox:1.36@sha256:" H},
    {"localhost:5000/a@sha256:" H, 0, "localhost:5000", "a", NULL, "sha256:" H,
     "localhost:5000/a@sha256:" H, "localhost:5000/a", "localhost:5000/a@sha256:" H},
    /* NO_DEFAULT_TAG: a bare name stays bare; an explicit tag is still kept. */
    {"busybox", LB_REFERENCE_NO_DEFAULT_TAG, "docker.io", "library/busybox", NULL, NULL,
     "docker.io/library/busybox", "busybox", "busybox"},
    {"busybox:musl", LB_REFERENCE_NO_DEFAULT_TAG, "docker.io", "library/busybox", "musl", NULL,
     "docker.io/library/busybox:musl", "busybox", "busybox:musl"},
    /* Only a bare 64-hex name is refused: with a tag or a domain it is a repository name. */
    {H ":latest", 0, "docker.io", "library/" H, "latest", NULL, "docker.io/library/" H ":latest", H,
     H ":latest"},
    {"docker.io/" H, 0, "docker.io", "library/" H, "latest", NULL, "docker.io/library/" H ":latest",
     H, H ":latest"},
};

static void check_valid_case(const struct valid_case *c)
{
    struct lb_reference ref;
    struct lb_error *err = NULL;
    if (lb_reference_parse(&ref, c->in, c->flags, &err) < 0)
        fail_msg("'%s' refused: %s", c->in, err->msg);
    assert_null(err);
    assert_string_equal(ref.domain, c->domain);
    assert_string_equal(ref.path, c->path);
    if (c->tag)
        assert_string_equal(ref.tag, c->tag);
    else
        assert_null(ref.tag);
    if (c->digest)
        assert_string_equal(ref.digest, c->digest);
    else
        assert_null(ref.digest);

    char *name = lb_reference_name(&ref);
    char *want_name = lb_xasprintf("%s/%s", c->domain, c->path);
    assert_string_equal(name, want_name);
    char *s = lb_reference_string(&ref);
    assert_string_equal(s, c->string);
    char *fn = lb_reference_familiar_name(&ref);
    assert_string_equal(fn, c->familiar_name);
    char *fs = lb_reference_familiar_string(&ref);
    assert_string_equal(fs, c->familiar_string);

    /* docker's guarantee: the familiar string and the full string both parse back to the same
     * reference. */
    struct lb_reference again;
    assert_int_equal(lb_reference_parse(&again, fs, c->flags, &err), 0);
    char *s2 = lb_reference_string(&again);
    assert_string_equal(s2, c->string);
    free(s2);
    lb_reference_release(&again);
    assert_int_equal(lb_reference_parse(&again, s, c->flags, &err), 0);
    s2 = lb_reference_string(&again);
    assert_string_equal(s2, c->string);
    free(s2);
    lb_reference_release(&again);

    free(name);
    free(want_name);
    free(s);
    free(fn);
    free(fs);
    lb_reference_release(&ref);
}

static void test_reference__normalises_valid_names_as_docker_does(void **state)
{
    (void)state;
    for (size_t i = 0; i < LB_ARRAY_SIZE(valid_cases); i++)
        check_valid_case(&valid_cases[i]);
}

struct invalid_case {
    const char *in;
    const char *reason; /* a substring of the message after "invalid reference format" */
};

static const struct invalid_case invalid_cases[] = {
    {"", "repository name must have at least one component"},
    {H, "cannot specify 64-byte hexadecimal strings"},
    /* Uppercase in the repository path (checked before the grammar, as docker does). */
    {"Busybox", "repository name must be lowercase"},
    {"foo/Bar", "repository name must be lowercase"},
    {"localhost:5000/Foo", "repository name must be lowercase"},
    {"busyBox:latest", "repository name must be lowercase"},
    {"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
     "repository name must be lowercase"},
    /* docker checks case up to the first ':', which includes the digest algorithm. */
    {"foo@SHA256:" H, "repository name must be lowercase"},
    /* An uppercase first component is taken as a domain; when it is not a valid one but would
     * be a valid path lowercased, docker reports the case, not the domain. */
    {"Foo_bar/baz", "repository name must be lowercase"},
    /* Domains. */
    {"-foo.com/bar", "invalid domain '-foo.com'"},
    {"foo-.com/bar", "invalid domain 'foo-.com'"},
    {"foo..com/bar", "invalid domain 'foo..com'"},
    {".foo.com/bar", "invalid domain '.foo.com'"},
    {"foo.com./bar", "invalid domain 'foo.com.'"},
    {"foo.com:/bar", "invalid domain 'foo.com:'"},
    {"foo.com:80a/bar", "invalid domain 'foo.com:80a'"},
    {"foo.com:80:81/bar", "invalid domain 'foo.com:80:81'"},
    {"foo:bar/baz", "invalid domain 'foo:bar'"},
    /* distribution's regexp would fall back to no domain at all here (skopeo 1.9 then pings
     * "https:///v2/"); layerbox refuses instead, since every reference has a domain. */
    {"a_b.c/d", "invalid domain 'a_b.c'"},
    {"Foo!/bar", "invalid domain 'Foo!'"},
    {"[::1/foo", "invalid domain '[::1'"},
    {"[:]:/foo", "invalid domain '[:]:'"},
    {"[]:5000/foo", "invalid domain '[]:5000'"},
    {"[::g]/foo", "invalid domain '[::g]'"},
    {"[::1]x/foo", "invalid domain '[::1]x'"},
    {"[::1]:x/foo", "invalid domain '[::1]:x'"},
    /* Path components. */
    {"foo//bar", "empty component in repository name 'foo//bar'"},
    {"foo/", "empty component"},
    {"/foo", "empty component"},
    {"localhost:5000/", "empty component"},
    {"[]/foo", "invalid repository name component '[]'"},
    {"foo/-bar", "invalid repository name component '-bar'"},
    {"foo/bar-", "invalid repository name component 'bar-'"},
    {"foo/a..b", "invalid repository name component 'a..b'"},
    {"foo/a___b", "invalid repository name component 'a___b'"},
    {"foo/a._b", "invalid repository name component 'a._b'"},
    {"foo/a-_b", "invalid repository name component 'a-_b'"},
    {"foo/a_", "invalid repository name component 'a_'"},
    {"foo/.a", "invalid repository name component '.a'"},
    {"foo/_a", "invalid repository name component '_a'"},
    {"foo bar", "invalid repository name component 'foo bar'"},
    {"foo/b\xc3\xa4r", "invalid repository name component"},
    /* Tags. */
    {"foo:", "invalid tag ''"},
    {"foo:-x", "invalid tag '-x'"},
    {"foo:.x", "invalid tag '.x'"},
    {"x/foo:a+b", "invalid tag 'a+b'"},
    {"foo:a:b", "invalid tag 'a:b'"},
    {"foo:@sha256:" H, "invalid tag ''"},
    /* Digests (validated by lb_digest_parse). */
    {"foo@", "invalid digest"},
    {"foo:tag@", "invalid digest"},
    {"foo@sha256:abc", "invalid digest"},
    {"foo@md5:d41d8cd98f00b204e9800998ecf8427e", "invalid digest"},
    {"foo@sha256:" H "0", "invalid digest"},
    {"foo@sha256:" H "@sha256:" H, "invalid digest"},
    {"foo@sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
     "invalid digest"},
    /* splitDockerDomain cuts at the first '/', so this one fails as a domain. */
    {"foo@sha256:../../../../etc/passwd", "invalid domain 'foo@sha256:..'"},
};

static void test_reference__refuses_invalid_names_with_a_reason(void **state)
{
    (void)state;
    for (size_t i = 0; i < LB_ARRAY_SIZE(invalid_cases); i++) {
        const struct invalid_case *c = &invalid_cases[i];
        struct lb_reference ref;
        struct lb_error *err = NULL;
        if (lb_reference_parse(&ref, c->in, 0, &err) == 0)
            fail_msg("'%s' accepted as '%s/%s'", c->in, ref.domain, ref.path);
        assert_non_null(err);
        assert_int_equal(err->kind, LB_EKIND_INVALID);
        assert_int_equal(err->code, 0);
        if (!lb_str_has_prefix(err->msg, "invalid reference format"))
            fail_msg("'%s': message '%s' lacks the prefix", c->in, err->msg);
        if (strstr(err->msg, c->reason) == NULL)
            fail_msg("'%s': message '%s' does not contain '%s'", c->in, err->msg, c->reason);
        lb_error_clear(&err);
        assert_null(ref.domain);
        assert_null(ref.path);
        assert_null(ref.tag);
        assert_null(ref.digest);
        lb_reference_release(&ref);
    }
}

static void test_reference__rejects_uppercase_repository(void **state)
{
    (void)state;
    struct lb_reference ref;
    struct lb_error *err = NULL;
    assert_int_equal(lb_reference_parse(&ref, "Busybox", 0, &err), -1);
    assert_string_equal(err->msg, "invalid reference format: repository name must be lowercase");
    lb_error_clear(&err);
}

static void test_reference__accepts_a_tag_of_128_characters_and_refuses_129(void **state)
{
    (void)state;
    char in[200];
    memcpy(in, "foo:", 4);
    memset(in + 4, 'a', 128);
    in[4 + 128] = '\0';
    struct lb_reference ref;
    struct lb_error *err = NULL;
    assert_int_equal(lb_reference_parse(&ref, in, 0, &err), 0);
    assert_int_equal(strlen(ref.tag), 128);
    lb_reference_release(&ref);

    in[4 + 128] = 'a';
    in[4 + 129] = '\0';
    assert_int_equal(lb_reference_parse(&ref, in, 0, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "invalid reference format: invalid tag");
}

/* The 255 limit is on the normalised name: "docker.io/library/" is 18 characters, so a one-
 * component name of 237 characters fits (255) and one of 238 does not (256). */
static void test_reference__limits_the_normalised_name_to_255_characters(void **state)
{
    (void)state;
    char in[300];
    struct lb_reference ref;
    struct lb_error *err = NULL;

    memset(in, 'a', 237);
    in[237] = '\0';
    assert_int_equal(lb_reference_parse(&ref, in, 0, &err), 0);
    char *name = lb_reference_name(&ref);
    assert_int_equal(strlen(name), 255);
    free(name);
    lb_reference_release(&ref);

    memset(in, 'a', 238);
    in[238] = '\0';
    assert_int_equal(lb_reference_parse(&ref, in, 0, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err,
                          "invalid reference format: repository name must not be more than 255 "
                          "characters");

    /* With an explicit domain: "example.com/" (12) + 243 = 255 fits, 244 does not. The tag
     * does not count. */
    memcpy(in, "example.com/", 12);
    memset(in + 12, 'b', 243);
    memcpy(in + 12 + 243, ":t", 3);
    assert_int_equal(lb_reference_parse(&ref, in, 0, &err), 0);
    assert_string_equal(ref.tag, "t");
    lb_reference_release(&ref);
    memset(in + 12, 'b', 244);
    memcpy(in + 12 + 244, ":t", 3);
    assert_int_equal(lb_reference_parse(&ref, in, 0, &err), -1);
    assert_error_contains(err, "must not be more than 255 characters");
}

static void test_reference__refuses_a_64_hex_name_in_docker_words(void **state)
{
    (void)state;
    struct lb_reference ref;
    struct lb_error *err = NULL;
    assert_int_equal(lb_reference_parse(&ref, H, 0, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "invalid reference format: invalid repository name '" H
                               "', cannot specify 64-byte hexadecimal strings");
    /* 63 hex characters are an ordinary name. */
    assert_int_equal(lb_reference_parse(&ref, H + 1, 0, &err), 0);
    char *want = lb_xasprintf("library/%s", H + 1);
    assert_string_equal(ref.path, want);
    free(want);
    lb_reference_release(&ref);
}

static void test_reference__digest_error_names_the_digest(void **state)
{
    (void)state;
    struct lb_reference ref;
    struct lb_error *err = NULL;
    assert_int_equal(lb_reference_parse(&ref, "foo@sha256:abc", 0, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "invalid reference format: invalid digest 'sha256:abc'");
}

static void test_reference__overwrites_garbage_in_ref_on_entry(void **state)
{
    (void)state;
    struct lb_reference ref;
    memset(&ref, 0x5a, sizeof(ref)); /* never freed: parse zeroes first */
    struct lb_error *err = NULL;
    assert_int_equal(lb_reference_parse(&ref, "Bad", 0, &err), -1);
    lb_error_clear(&err);
    assert_null(ref.domain);
    assert_null(ref.path);
    lb_reference_release(&ref);
}

static void test_reference__release_is_idempotent_and_accepts_null(void **state)
{
    (void)state;
    struct lb_reference ref;
    assert_int_equal(lb_reference_parse(&ref, "a/b:c@sha256:" H, 0, NULL), 0);
    lb_reference_release(&ref);
    assert_null(ref.domain);
    assert_null(ref.path);
    assert_null(ref.tag);
    assert_null(ref.digest);
    lb_reference_release(&ref);
    lb_reference_release(NULL);
}

static void test_reference__fails_cleanly_without_an_error_out_param(void **state)
{
    (void)state;
    struct lb_reference ref;
    assert_int_equal(lb_reference_parse(&ref, "foo@bad", 0, NULL), -1);
    assert_int_equal(lb_reference_parse(&ref, "", 0, NULL), -1);
    assert_null(ref.domain);
}

static void test_reference__new_image_name_is_a_tagged_name_without_digest(void **state)
{
    (void)state;
    struct lb_error *err = NULL;
    char *n = lb_reference_new_image_name("busybox", "commit", &err);
    assert_string_equal(n, "docker.io/library/busybox:latest");
    free(n);
    n = lb_reference_new_image_name("localhost:5000/a/b:v2", "import", &err);
    assert_string_equal(n, "localhost:5000/a/b:v2");
    free(n);
    const char *dig = "x@sha256:0000000000000000000000000000000000000000000000000000000000000000";
    assert_null(lb_reference_new_image_name(dig, "commit", &err));
    assert_error_contains(err, "has a digest: commit needs a repository[:tag] name");
    assert_null(lb_reference_new_image_name("Bad Name", "import", &err));
    assert_error_contains(err, "invalid reference format");
}

static void test_reference__keeps_the_first_error(void **state)
{
    (void)state;
    struct lb_reference ref;
    struct lb_error *err = NULL;
    lb_error_set(&err, 0, "earlier failure");
    assert_int_equal(lb_reference_parse(&ref, "Bad", 0, &err), -1);
    assert_string_equal(err->msg, "earlier failure");
    lb_error_clear(&err);
}

LB_UNIT_MAIN(cmocka_unit_test(test_reference__normalises_valid_names_as_docker_does),
             cmocka_unit_test(test_reference__refuses_invalid_names_with_a_reason),
             cmocka_unit_test(test_reference__rejects_uppercase_repository),
             cmocka_unit_test(test_reference__accepts_a_tag_of_128_characters_and_refuses_129),
             cmocka_unit_test(test_reference__limits_the_normalised_name_to_255_characters),
             cmocka_unit_test(test_reference__refuses_a_64_hex_name_in_docker_words),
             cmocka_unit_test(test_reference__digest_error_names_the_digest),
             cmocka_unit_test(test_reference__overwrites_garbage_in_ref_on_entry),
             cmocka_unit_test(test_reference__release_is_idempotent_and_accepts_null),
             cmocka_unit_test(test_reference__fails_cleanly_without_an_error_out_param),
             cmocka_unit_test(test_reference__new_image_name_is_a_tagged_name_without_digest),
             cmocka_unit_test(test_reference__keeps_the_first_error))
