/* test_chainid.c — ChainIDs (OCI image-spec, config.md "Layer ChainID").
 *
 * The DiffIDs are the SHA-256 of "", "abc" and the FIPS 180-2 448-bit message (E, A, B below).
 * Every expected ChainID was computed independently in the shell, e.g.
 *
 *     printf '%s' "sha256:<E> sha256:<A>" | sha256sum        → C2
 *     printf '%s' "<C2> sha256:<B>" | sha256sum               → C3
 *
 * not taken from the program's output. */
#include "unit.h"

#include "layer/chainid.h"

#define E "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define A "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define B "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"

/* sha256("E A") */
#define C2 "sha256:a893da35bd22286079f2f3931516d3423eb9b4945f2379e0f8a501ec3d665dd6"
/* sha256("C2 B") */
#define C3 "sha256:ea8c0e53649f21a5a824a4f75506fc7ffc4e5d22a126435c0fc367b648f7dfd6"
/* sha256("A E"): the same layers in the other order */
#define SWAPPED "sha256:dd8ddd90bdf3ccbd91abd3f399218c9d93e91246734fab743933f42048ac3e2c"
/* sha256("E E"): the same layer twice */
#define TWICE "sha256:de9d9016b852e46e9f3973e20d3a6d17e120f7144931d50cd6e2a8ad53e81960"
/* sha256("C2 E"): a third layer different from B on the same base */
#define C2_E "sha256:c7aee1adee42d4db4910137e5f81f051269d58787a1f676ee50078fd0c689280"

static struct lb_digest dg(const char *s)
{
    struct lb_digest d;
    struct lb_error *err = NULL;
    if (lb_digest_parse(&d, s, &err) < 0)
        fail_msg("bad test digest %s", s);
    return d;
}

static void test_chainid__bottom_layer_chain_id_is_its_diff_id(void **state)
{
    (void)state;
    struct lb_digest diff = dg(A), out;
    lb_chain_id_next(&out, NULL, &diff);
    assert_string_equal(out.str, A);

    struct lb_digest ids[1];
    lb_chain_ids(ids, &diff, 1);
    assert_string_equal(ids[0].str, A);
}

static void test_chainid__upper_layers_hash_parent_space_diff_id(void **state)
{
    (void)state;
    struct lb_digest diffs[3] = {dg(E), dg(A), dg(B)};
    struct lb_digest ids[3];
    lb_chain_ids(ids, diffs, 3);
    assert_string_equal(ids[0].str, E);
    assert_string_equal(ids[1].str, C2);
    assert_string_equal(ids[2].str, C3);

    /* Step by step gives the same answers. */
    struct lb_digest c2, c3, e = dg(E), a = dg(A), b = dg(B);
    lb_chain_id_next(&c2, &e, &a);
    assert_string_equal(c2.str, C2);
    lb_chain_id_next(&c3, &c2, &b);
    assert_string_equal(c3.str, C3);
}

static void test_chainid__order_of_layers_matters(void **state)
{
    (void)state;
    struct lb_digest diffs[2] = {dg(A), dg(E)};
    struct lb_digest ids[2];
    lb_chain_ids(ids, diffs, 2);
    assert_string_equal(ids[0].str, A);
    assert_string_equal(ids[1].str, SWAPPED);
    assert_string_not_equal(ids[1].str, C2);
}

static void test_chainid__the_same_layer_twice_gets_a_new_chain_id(void **state)
{
    (void)state;
    struct lb_digest diffs[2] = {dg(E), dg(E)};
    struct lb_digest ids[2];
    lb_chain_ids(ids, diffs, 2);
    assert_string_equal(ids[0].str, E);
    assert_string_equal(ids[1].str, TWICE);
}

static void test_chainid__images_sharing_a_base_share_its_chain_ids(void **state)
{
    (void)state;
    struct lb_digest one[3] = {dg(E), dg(A), dg(B)};
    struct lb_digest two[3] = {dg(E), dg(A), dg(E)};
    struct lb_digest ids1[3], ids2[3];
    lb_chain_ids(ids1, one, 3);
    lb_chain_ids(ids2, two, 3);
    assert_true(lb_digest_equal(&ids1[0], &ids2[0]));
    assert_true(lb_digest_equal(&ids1[1], &ids2[1]));
    assert_string_equal(ids2[2].str, C2_E);
    assert_false(lb_digest_equal(&ids1[2], &ids2[2]));
}

/* The image-spec's own test (identity/chainid_test.go) uses the readable, deliberately invalid
 * identifiers "sha256:a", "sha256:b", "sha256:c": ChainID(A|B) = sha256("sha256:a sha256:b"),
 * ChainID(A|B|C) = sha256(ChainID(A|B) + " sha256:c"). Expected values from sha256sum:
 *     printf '%s' "sha256:a sha256:b" | sha256sum
 *     printf '%s' "sha256:970a…73a8 sha256:c" | sha256sum */
static void test_chainid__matches_the_image_spec_test_vectors(void **state)
{
    (void)state;
    struct lb_digest in[3];
    snprintf(in[0].str, sizeof(in[0].str), "sha256:a");
    snprintf(in[1].str, sizeof(in[1].str), "sha256:b");
    snprintf(in[2].str, sizeof(in[2].str), "sha256:c");
    struct lb_digest out[3];
    lb_chain_ids(out, in, 3);
    assert_string_equal(out[0].str, "sha256:a");
    assert_string_equal(out[1].str,
                        "sha256:970a948bffa8de94d6e22d747ba8c95030e6e546909f98f54e99a13005e173a8");
    assert_string_equal(out[2].str,
                        "sha256:dee159b33409cefa3f6eda71539f006014283e9d9130c18a1dea7bd8a33c9b1b");
}

static void test_chainid__no_layers_writes_nothing(void **state)
{
    (void)state;
    struct lb_digest sentinel;
    memset(&sentinel, 'x', sizeof(sentinel));
    struct lb_digest out = sentinel;
    lb_chain_ids(&out, NULL, 0);
    assert_memory_equal(&out, &sentinel, sizeof(out));
}

LB_UNIT_MAIN(cmocka_unit_test(test_chainid__matches_the_image_spec_test_vectors),
             cmocka_unit_test(test_chainid__bottom_layer_chain_id_is_its_diff_id),
             cmocka_unit_test(test_chainid__upper_layers_hash_parent_space_diff_id),
             cmocka_unit_test(test_chainid__order_of_layers_matters),
             cmocka_unit_test(test_chainid__the_same_layer_twice_gets_a_new_chain_id),
             cmocka_unit_test(test_chainid__images_sharing_a_base_share_its_chain_ids),
             cmocka_unit_test(test_chainid__no_layers_writes_nothing))
