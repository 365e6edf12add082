/* test_table.c — the tabwriter layout of src/core/table.c.
 *
 * Expected outputs come from two independent places:
 *  - worked by hand from Go's algorithm (the comment above each says how): a column block's width
 *    is max(minwidth, widest text in the block + padding); the text after a line's last tab is
 *    not in any column. With docker's settings (minwidth 10, padding 3) a column is
 *    max(10, widest + 3) wide; these expectations are built with printf's "%-Ns", so no code of
 *    the module under test produces them;
 *  - cases from Go's own tabwriter_test.go (src/text/tabwriter), whose expected strings are the
 *    outputs of Go's implementation, marked "Go case <name>". */
#include "unit.h"

#include "core/table.h"

static void assert_layout(struct lb_table *t, const char *input, const char *expected)
{
    lb_table_write(t, input, strlen(input));
    char *got = lb_table_render(t);
    assert_string_equal(got, expected);
    free(got);
    lb_table_free(t);
}

static void assert_docker_layout(const char *input, const char *expected)
{
    assert_layout(lb_table_new(), input, expected);
}

/* Widths: REPOSITORY column: longest is "registry.example.com/team/app" (29 runes) in the LAST row,
 * so the whole block is 29 + 3 = 32 wide, header included. TAG: longest 6 ("latest", "v1.2.3"),
 * 6 + 3 = 9 < minwidth, so 10. IMAGE ID: 12 + 3 = 15. CREATED: "5 months ago" 12 + 3 = 15.
 * SIZE is the last cell of each line: not a column, not padded. */
static void test_table__docker_images_table_widens_for_a_later_row(void **state)
{
    (void)state;
    struct lb_table *t = lb_table_new();
    lb_table_add_line(t, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE");
    lb_table_add_line(t, "busybox\tlatest\tabc123def456\t2 weeks ago\t4.26MB");
    lb_table_add_line(t, "alpine\t3.19\t05455a08881e\t5 months ago\t7.38MB");
    lb_table_add_line(t, "registry.example.com/team/app\tv1.2.3\t0123456789ab\t3 days ago\t120MB");
    char *got = lb_table_render(t);
    lb_table_free(t);

    char expected[1024];
    const char *row = "%-32s%-10s%-15s%-15s%s\n";
    int n = snprintf(expected, sizeof(expected), row, "REPOSITORY", "TAG", "IMAGE ID", "CREATED",
                     "SIZE");
    n += snprintf(expected + n, sizeof(expected) - n, row, "busybox", "latest", "abc123def456",
                  "2 weeks ago", "4.26MB");
    n += snprintf(expected + n, sizeof(expected) - n, row, "alpine", "3.19", "05455a08881e",
                  "5 months ago", "7.38MB");
    snprintf(expected + n, sizeof(expected) - n, row, "registry.example.com/team/app", "v1.2.3",
             "0123456789ab", "3 days ago", "120MB");
    assert_string_equal(got, expected);
    free(got);
}

/* Column 1 is empty on every line: width max(10, 0 + 3) = 10, and empty cells are padded too. */
static void test_table__pads_empty_cells_to_the_column_width(void **state)
{
    (void)state;
    assert_docker_layout("NAME\t\tSTATUS\nweb\t\tUp\n", "NAME                STATUS\n"
                                                        "web                 Up\n");
    /* One non-empty cell in the column sets the width (17 + 3 = 20) for the empty one. */
    assert_docker_layout("x\tlonger-value-here\tz\ny\t\tw\n", "x         longer-value-here   z\n"
                                                              "y                             w\n");
}

/* A single line is a block of its own: each cell 10 wide (minwidth), last cell as is. */
static void test_table__lays_out_a_single_line(void **state)
{
    (void)state;
    assert_docker_layout("A\tB\tC\n", "A         B         C\n");
    assert_docker_layout("no tabs at all\n", "no tabs at all\n");
    assert_docker_layout("", "");
    /* No final newline: none is added. */
    assert_docker_layout("a\tb", "a         b");
}

/* Lines of 3, 2 and 4 cells. Column 0 exists in all three (block of 3 lines, width 10).
 * Column 1 is tab-terminated in line 1 and line 3 only: line 2's "bbbbbbbbbbbbb" is its trailing
 * cell, so it is in no column and splits column 1 into two blocks (each 1 + 3 -> 10).
 * Column 2 exists in line 3 only: "ccccccccccccc" is 13 runes -> 16. */
static void test_table__lines_with_differing_cell_counts_form_separate_blocks(void **state)
{
    (void)state;
    assert_docker_layout("a\tb\tc\n"
                         "aa\tbbbbbbbbbbbbb\n"
                         "aaa\tb\tccccccccccccc\td\n",
                         "a         b         c\n"
                         "aa        bbbbbbbbbbbbb\n"
                         "aaa       b         ccccccccccccc   d\n");
}

/* A line without a tab ends column 0's block: "longer-name" (11 + 3 = 14) widens only the lines
 * above the break; "p" below it starts a new block of width 10. */
static void test_table__a_line_without_tabs_splits_the_table(void **state)
{
    (void)state;
    assert_docker_layout("x\ty\nlonger-name\tz\nno tabs here\np\tq\n", "x             y\n"
                                                                       "longer-name   z\n"
                                                                       "no tabs here\n"
                                                                       "p         q\n");
}

/* Width is counted in runes, not bytes: "名前" is 2 runes (6 bytes), padded with 8 spaces. */
static void test_table__counts_width_in_utf8_runes(void **state)
{
    (void)state;
    assert_docker_layout("名前\tx\nab\tyy\n", "名前        x\n"
                                              "ab        yy\n");
    assert_int_equal(lb_table_text_width("名前", strlen("名前")), 2);
    assert_int_equal(lb_table_text_width("\xff\xfe", 2), 2);         /* invalid bytes: one each */
    assert_int_equal(lb_table_text_width("\xe2\x82", 2), 2);         /* truncated sequence */
    assert_int_equal(lb_table_text_width("\xc0\xaf", 2), 2);         /* overlong '/' is invalid */
    assert_int_equal(lb_table_text_width("\xe0\x80\xaf", 3), 3);     /* overlong, 3 bytes */
    assert_int_equal(lb_table_text_width("\xed\xa0\x80", 3), 3);     /* a UTF-16 surrogate */
    assert_int_equal(lb_table_text_width("\xf4\x90\x80\x80", 4), 4); /* above U+10FFFF */
    assert_int_equal(lb_table_text_width("\xf0\x9f\x90\xb3", 4), 1);
}

/* A tab before the newline makes the last cell empty, so "b" is in a column and padded. Without
 * the newline the trailing empty cell is not counted at all (Go case 5c). */
static void test_table__trailing_tab_makes_the_last_text_a_column(void **state)
{
    (void)state;
    assert_docker_layout("a\tb\t\n", "a         b         \n");
    assert_layout(lb_table_new_with(8, 0, 1, '.', 0), "*\t*\t", "*.......*");
}

/* Tab padding, tabwidth 8: column 0 is max(0, 10 + 1) = 11 -> rounded up to 16; "a" needs
 * 15 columns -> 2 tabs, "aaaaaaaaaa" needs 6 -> 1 tab. Column 1 is 9 + 1 = 10 -> 16; "bbbbbbbbb"
 * needs 7 -> 1 tab, "b" needs 15 -> 2 tabs. */
static void test_table__pads_with_tabs_when_padchar_is_tab(void **state)
{
    (void)state;
    assert_layout(lb_table_new_with(0, 8, 1, '\t', LB_TABLE_ALIGN_RIGHT),
                  "a\tbbbbbbbbb\tc\naaaaaaaaaa\tb\tc\n", "a\t\tbbbbbbbbb\tc\naaaaaaaaaa\tb\t\tc\n");
}

/* Go case 13a (minwidth 4, padding 1, '-'): blocks broken by short and empty lines. */
static void test_table__matches_go_case_13a(void **state)
{
    (void)state;
    assert_layout(lb_table_new_with(4, 0, 1, '-', 0),
                  "4444\t日本語\t22\t1\t333\n"
                  "999999999\t22\n"
                  "7\t22\n"
                  "\t\t\t88888888\n"
                  "\n"
                  "666666\t666666\t666666\t4444\n"
                  "1\t1\t999999999\t0000000000\n",
                  "4444------日本語-22--1---333\n"
                  "999999999-22\n"
                  "7---------22\n"
                  "------------------88888888\n"
                  "\n"
                  "666666-666666-666666----4444\n"
                  "1------1------999999999-0000000000\n");
}

/* Go case 13b (minwidth 4, padding 3, '.'). */
static void test_table__matches_go_case_13b(void **state)
{
    (void)state;
    assert_layout(lb_table_new_with(4, 0, 3, '.', 0),
                  "4444\t333\t22\t1\t333\n"
                  "999999999\t22\n"
                  "7\t22\n"
                  "\t\t\t88888888\n"
                  "\n"
                  "666666\t666666\t666666\t4444\n"
                  "1\t1\t999999999\t0000000000\n",
                  "4444........333...22...1...333\n"
                  "999999999...22\n"
                  "7...........22\n"
                  "....................88888888\n"
                  "\n"
                  "666666...666666...666666......4444\n"
                  "1........1........999999999...0000000000\n");
}

/* Go cases 12a (AlignRight, multi-byte runes) and 14 debug (AlignRight | Debug, a final line
 * ending in two tabs and no newline). */
static void test_table__matches_go_cases_for_right_alignment_and_debug(void **state)
{
    (void)state;
    assert_layout(lb_table_new_with(8, 0, 1, ' ', LB_TABLE_ALIGN_RIGHT),
                  "a\tè\tc\t\naa\tèèè\tcccc\tddddd\t\naaa\tèèèè\t\n",
                  "       a       è       c\n"
                  "      aa     èèè    cccc   ddddd\n"
                  "     aaa    èèèè\n");
    assert_layout(lb_table_new_with(1, 0, 2, ' ', LB_TABLE_ALIGN_RIGHT | LB_TABLE_DEBUG),
                  ".0\t.3\t2.4\t-5.1\t\n"
                  "23.0\t12345678.9\t2.4\t-989.4\t\n"
                  "5.1\t12.0\t2.4\t-7.0\t\n"
                  ".0\t0.0\t332.0\t8908.0\t\n"
                  ".0\t-.3\t456.4\t22.1\t\n"
                  ".0\t1.2\t44.4\t-13.3\t\t",
                  "    .0|          .3|    2.4|    -5.1|\n"
                  "  23.0|  12345678.9|    2.4|  -989.4|\n"
                  "   5.1|        12.0|    2.4|    -7.0|\n"
                  "    .0|         0.0|  332.0|  8908.0|\n"
                  "    .0|         -.3|  456.4|    22.1|\n"
                  "    .0|         1.2|   44.4|   -13.3|");
}

/* Go cases 9a and 9c debug: a form feed ends all columns (and prints "---" in debug mode). */
static void test_table__form_feed_ends_every_column_block(void **state)
{
    (void)state;
    assert_layout(lb_table_new_with(1, 0, 0, '.', 0), "1\t2\t3\t4\n11\t222\t3333\t44444\n",
                  "1.2..3...4\n11222333344444\n");
    assert_layout(lb_table_new_with(1, 0, 0, '.', LB_TABLE_DEBUG),
                  "1\t2\t3\t4\f11\t222\t3333\t44444\n", "1|2|3|4\n---\n11|222|3333|44444\n");
}

/* Go cases 2, 3, 4a, 6 and 11 (empty lines, no tabs, a lone tab, CJK widths). */
static void test_table__matches_go_small_cases(void **state)
{
    (void)state;
    assert_layout(lb_table_new_with(8, 0, 1, '.', 0), "\n\n\n", "\n\n\n");
    assert_layout(lb_table_new_with(8, 0, 1, '.', 0), "a\nb\nc", "a\nb\nc");
    assert_layout(lb_table_new_with(8, 0, 1, '.', 0), "\t", "");
    assert_layout(lb_table_new_with(8, 0, 1, '.', 0), "\t\n", "........\n");
    assert_layout(lb_table_new_with(8, 0, 1, '.', 0),
                  "本\tb\tc\naa\t本本本\tcccc\tddddd\naaa\tbbbb\n",
                  "本.......b.......c\naa......本本本.....cccc....ddddd\naaa.....bbbb\n");
}

/* Text may be written in arbitrary pieces, and rendering does not consume it. */
static void test_table__accepts_text_in_pieces_and_renders_twice(void **state)
{
    (void)state;
    struct lb_table *t = lb_table_new();
    lb_table_write(t, "ab\tc", 4);
    lb_table_write(t, "d\nefg\th", 7);
    lb_table_write(t, "\n", 1);
    char *one = lb_table_render(t);
    char *two = lb_table_render(t);
    assert_string_equal(one, "ab        cd\nefg       h\n");
    assert_string_equal(two, one);
    free(one);
    free(two);
    lb_table_free(t);
    lb_table_free(NULL);
}

LB_UNIT_MAIN(cmocka_unit_test(test_table__docker_images_table_widens_for_a_later_row),
             cmocka_unit_test(test_table__pads_empty_cells_to_the_column_width),
             cmocka_unit_test(test_table__lays_out_a_single_line),
             cmocka_unit_test(test_table__lines_with_differing_cell_counts_form_separate_blocks),
             cmocka_unit_test(test_table__a_line_without_tabs_splits_the_table),
             cmocka_unit_test(test_table__counts_width_in_utf8_runes),
             cmocka_unit_test(test_table__trailing_tab_makes_the_last_text_a_column),
             cmocka_unit_test(test_table__pads_with_tabs_when_padchar_is_tab),
             cmocka_unit_test(test_table__matches_go_case_13a),
             cmocka_unit_test(test_table__matches_go_case_13b),
             cmocka_unit_test(test_table__matches_go_cases_for_right_alignment_and_debug),
             cmocka_unit_test(test_table__form_feed_ends_every_column_block),
             cmocka_unit_test(test_table__matches_go_small_cases),
             cmocka_unit_test(test_table__accepts_text_in_pieces_and_renders_twice))
