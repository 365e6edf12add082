/* test_names.c — container names: the `[a-zA-Z0-9][a-zA-Z0-9_.-]*` rule with its 253-character
 * limit, the leading '/' docker allows, and generated "adjective_surname" names. */
#include "unit.h"

#include "container/names.h"

static void test_names__accepts_valid_names(void **state)
{
    (void)state;
    static const char *const good[] = {"a", "web", "Web2", "0", "a.b-c_d", "x--", "db_1.example"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct lb_error *err = NULL;
        if (lb_names_validate(good[i], &err) != 0)
            fail_msg("'%s' refused: %s", good[i], err->msg);
    }
    char max[LB_NAME_MAX + 1];
    memset(max, 'n', LB_NAME_MAX);
    max[LB_NAME_MAX] = '\0';
    assert_int_equal(strlen(max), 253);
    assert_int_equal(lb_names_validate(max, NULL), 0);
}

static void test_names__rejects_empty_long_and_bad_characters(void **state)
{
    (void)state;
    struct lb_error *err = NULL;
    assert_int_equal(lb_names_validate("", &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "container name cannot be empty");
    assert_int_equal(lb_names_validate(NULL, &err), -1);
    assert_error_contains(err, "cannot be empty");

    char too_long[LB_NAME_MAX + 2];
    memset(too_long, 'n', LB_NAME_MAX + 1);
    too_long[LB_NAME_MAX + 1] = '\0';
    assert_int_equal(lb_names_validate(too_long, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "longer than 253 characters");

    static const char *const bad[] = {"-x",          "_x",   ".x",   "/x/y", "x/y",
                                      "/web",        "a b",  " a",   "a ",   "a:b",
                                      "caf\xc3\xa9", "a\tb", "a\nb", "a*",   "a@b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (lb_names_validate(bad[i], &err) != -1)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(err->kind, LB_EKIND_INVALID);
        assert_error_contains(err, "only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
    }
    assert_int_equal(lb_names_validate("a b", &err), -1);
    assert_string_equal(err->msg,
                        "invalid container name 'a b': only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
    lb_error_clear(&err);
}

static void test_names__strips_one_leading_slash(void **state)
{
    (void)state;
    assert_string_equal(lb_names_strip_slash("/web"), "web");
    assert_string_equal(lb_names_strip_slash("web"), "web");
    assert_string_equal(lb_names_strip_slash("//web"), "/web"); /* only one: then invalid */
    assert_string_equal(lb_names_strip_slash("/"), "");
    assert_null(lb_names_strip_slash(NULL));
    assert_int_equal(lb_names_validate(lb_names_strip_slash("//web"), NULL), -1);
}

static bool in_list(const char *const *list, unsigned n, const char *w, size_t len)
{
    for (unsigned i = 0; i < n; i++)
        if (strlen(list[i]) == len && strncmp(list[i], w, len) == 0)
            return true;
    return false;
}

static void test_names__word_lists_are_about_fifty_distinct_valid_words(void **state)
{
    (void)state;
    unsigned na = 0, ns = 0;
    const char *const *adj = lb_names_adjectives(&na);
    const char *const *sur = lb_names_surnames(&ns);
    assert_in_range(na, 45, 120);
    assert_in_range(ns, 45, 120);
    for (int which = 0; which < 2; which++) {
        const char *const *list = which ? sur : adj;
        unsigned n = which ? ns : na;
        for (unsigned i = 0; i < n; i++) {
            assert_non_null(list[i]);
            for (const char *p = list[i]; *p; p++)
                if (*p < 'a' || *p > 'z')
                    fail_msg("'%s' is not lowercase letters only", list[i]);
            for (unsigned j = i + 1; j < n; j++)
                if (strcmp(list[i], list[j]) == 0)
                    fail_msg("'%s' is listed twice", list[i]);
        }
    }
}

/* A generated name is adjective + '_' + surname from the lists (+ digits on a retry). */
static void check_generated(const char *name, bool digits)
{
    unsigned na = 0, ns = 0;
    const char *const *adj = lb_names_adjectives(&na);
    const char *const *sur = lb_names_surnames(&ns);
    assert_int_equal(lb_names_validate(name, NULL), 0);
    const char *us = strchr(name, '_');
    assert_non_null(us);
    assert_true(in_list(adj, na, name, (size_t)(us - name)));
    const char *end = us + 1;
    while (*end >= 'a' && *end <= 'z')
        end++;
    assert_true(in_list(sur, ns, us + 1, (size_t)(end - us - 1)));
    if (digits) {
        assert_true(*end >= '0' && *end <= '9');
        while (*end >= '0' && *end <= '9')
            end++;
    }
    assert_int_equal(*end, '\0');
}

static void test_names__generates_adjective_surname_and_digits_on_retry(void **state)
{
    (void)state;
    char *first = lb_names_generate(0);
    bool varied = false;
    for (int i = 0; i < 200; i++) {
        char *n = lb_names_generate(0);
        check_generated(n, false);
        if (strcmp(n, first) != 0)
            varied = true;
        free(n);
    }
    assert_true(varied); /* random, not a constant */
    free(first);

    char *r1 = lb_names_generate(1);
    check_generated(r1, true);
    const char *d = r1 + strlen(r1) - 1;
    assert_true(*d >= '0' && *d <= '9' && !(d[-1] >= '0' && d[-1] <= '9')); /* one digit */
    free(r1);
    /* more retries, more digits: 1 + retry/16 */
    char *r40 = lb_names_generate(40);
    check_generated(r40, true);
    size_t len = strlen(r40), nd = 0;
    while (nd < len && r40[len - 1 - nd] >= '0' && r40[len - 1 - nd] <= '9')
        nd++;
    assert_int_equal(nd, 3);
    free(r40);
}

LB_UNIT_MAIN(cmocka_unit_test(test_names__accepts_valid_names),
             cmocka_unit_test(test_names__rejects_empty_long_and_bad_characters),
             cmocka_unit_test(test_names__strips_one_leading_slash),
             cmocka_unit_test(test_names__word_lists_are_about_fifty_distinct_valid_words),
             cmocka_unit_test(test_names__generates_adjective_surname_and_digits_on_retry))
