/* test_text.c - unit tests for the tokeniser (indexer/text.c). */
#include "check.h"
#include "text.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* Tokens rendered as "<type><term>@<pos>" joined by spaces, type W (word),
 * U (CJK unigram) or B (CJK bigram), so a whole expected list is one
 * string; raw spans are checked against the input as they arrive. */
struct collect {
    char out[8192];
    size_t len;
    int ntok;
    int stop_after;     /* stop (return 1) at this token; 0 = never */
    const char *in;     /* the input, to check raw spans */
    size_t in_len;
    int raw_ok;
    unsigned last_pos;
    int pos_ok;         /* positions never decrease */
};

static int collect_fn(void *ctx, const struct text_token *tok)
{
    struct collect *c = ctx;
    static const char types[] = {'W', 'U', 'B'};
    int w;

    if (tok->raw < c->in || tok->raw + tok->raw_len > c->in + c->in_len ||
        tok->raw_len == 0 || tok->len == 0)
        c->raw_ok = 0;
    /* CJK terms are the input bytes themselves */
    if (tok->type != TEXT_WORD &&
        (tok->len != tok->raw_len || memcmp(tok->s, tok->raw, tok->len)))
        c->raw_ok = 0;
    if (tok->pos < c->last_pos || tok->pos == 0)
        c->pos_ok = 0;
    c->last_pos = tok->pos;
    w = snprintf(c->out + c->len, sizeof c->out - c->len, "%s%c%.*s@%u",
                 c->len ? " " : "", types[tok->type], (int)tok->len, tok->s,
                 tok->pos);
    if (w > 0 && (size_t)w < sizeof c->out - c->len)
        c->len += (size_t)w;
    c->ntok++;
    return c->stop_after && c->ntok >= c->stop_after;
}

static text_tokenizer *tk;

/* Tokenises s with flags from position *pos (0 if pos is NULL) and returns
 * the rendered tokens (static buffer), checking raw spans and positions. */
static const char *toks_at(const char *s, size_t n, unsigned flags,
                           unsigned *pos)
{
    static struct collect c;
    unsigned p0 = 0;
    enum kx_status st;

    memset(&c, 0, sizeof c);
    c.in = s;
    c.in_len = n;
    c.raw_ok = 1;
    c.pos_ok = 1;
    st = text_tokenize(tk, s, n, flags, pos ? pos : &p0, collect_fn, &c);
    CHECK_INT(st, KX_OK);
    CHECK(c.raw_ok);
    CHECK(c.pos_ok);
    return c.out;
}

static const char *toks(const char *s, unsigned flags)
{
    return toks_at(s, strlen(s), flags, NULL);
}

static void test_chinese(void)
{
    const char *s = "聚丙烯催化剂";
    unsigned pos = 0;

    CHECK_STR(toks_at(s, strlen(s), TEXT_UNIGRAMS, &pos),
              "U聚@1 B聚丙@1 U丙@2 B丙烯@2 U烯@3 B烯催@3 U催@4 B催化@4 "
              "U化@5 B化剂@5 U剂@6");
    CHECK_INT(pos, 6);
    pos = 0;
    CHECK_STR(toks_at(s, strlen(s), 0, &pos),
              "B聚丙@1 B丙烯@2 B烯催@3 B催化@4 B化剂@5");
    CHECK_INT(pos, 6);
}

static void test_single_cjk(void)
{
    CHECK_STR(toks("油", 0), "U油@1");
    CHECK_STR(toks("油", TEXT_UNIGRAMS), "U油@1");
    /* lone characters between separators, and a lone one ending a text */
    CHECK_STR(toks("油 气，水", 0), "U油@1 U气@2 U水@3");
    CHECK_STR(toks("电池 油", 0), "B电池@1 U油@3");
    CHECK_STR(toks("", TEXT_UNIGRAMS), "");
}

static void test_mixed(void)
{
    const char *s = "machine 燃料电池 learning";

    CHECK_STR(toks(s, 0),
              "Wmachine@1 B燃料@2 B料电@3 B电池@4 Wlearning@6");
    CHECK_STR(toks(s, TEXT_UNIGRAMS | TEXT_STEM),
              "Wmachin@1 U燃@2 B燃料@2 U料@3 B料电@3 U电@4 B电池@4 U池@5 "
              "Wlearn@6");
    /* no spaces between scripts */
    CHECK_STR(toks("AI芯片2024年", 0), "Wai@1 B芯片@2 W2024@4 U年@5");
}

/* The raw span of each token is where it sits in the input. */
struct raw_seen {
    const char *raw[8];
    size_t raw_len[8];
    int n;
};

static int raw_fn(void *ctx, const struct text_token *tok)
{
    struct raw_seen *r = ctx;

    if (r->n < 8) {
        r->raw[r->n] = tok->raw;
        r->raw_len[r->n] = tok->raw_len;
    }
    r->n++;
    return 0;
}

static void test_raw(void)
{
    const char *s = "Running, 燃料电池 ＡＢＣ";
    struct raw_seen r;
    unsigned pos = 0;

    memset(&r, 0, sizeof r);
    CHECK_INT(text_tokenize(tk, s, strlen(s), TEXT_STEM, &pos, raw_fn, &r),
              KX_OK);
    CHECK_INT(r.n, 5);
    CHECK(r.raw[0] == s);
    CHECK_INT(r.raw_len[0], 7);           /* "Running", not the stem */
    CHECK(r.raw[1] == s + 9);
    CHECK_INT(r.raw_len[1], 6);           /* 燃料 */
    CHECK(r.raw[3] == s + 15);
    CHECK_INT(r.raw_len[3], 6);           /* 电池 */
    CHECK(r.raw[4] == s + 22);
    CHECK_INT(r.raw_len[4], 9);           /* ＡＢＣ, full width */
}

static void test_fullwidth(void)
{
    CHECK_STR(toks("ＡＢＣ１２３", 0), "Wabc123@1");
    CHECK_STR(toks("ｉＰｈｏｎｅ１５", 0), "Wiphone15@1");
    /* half and full width join one word; full-width punctuation splits */
    CHECK_STR(toks("GPT－４，ＡＩ＿ok", 0), "Wgpt@1 W4@2 Wai@3 Wok@4");
    /* a full-width digit run is a number: not stemmed */
    CHECK_STR(toks("１９９０ years", TEXT_STEM), "W1990@1 Wyear@2");
}

static void test_stem(void)
{
    CHECK_STR(toks("Catalysts running", TEXT_STEM), "Wcatalyst@1 Wrun@2");
    CHECK_STR(toks("Catalysts running", 0), "Wcatalysts@1 Wrunning@2");
    CHECK_STR(toks("Catalysts 2024 running", TEXT_STEM),
              "Wcatalyst@1 W2024@2 Wrun@3");
}

static void test_stopwords(void)
{
    static const char *const all[] = {
        "a", "about", "above", "after", "again", "against", "all", "an",
        "and", "any", "are", "as", "at", "be", "because", "been", "before",
        "being", "below", "between", "both", "but", "by", "can", "could",
        "did", "do", "does", "doing", "down", "during", "each", "few", "for",
        "from", "further", "had", "has", "have", "having", "he", "her",
        "here", "hers", "herself", "him", "himself", "his", "how", "i", "if",
        "in", "into", "is", "its", "itself", "just", "me", "more", "most",
        "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once",
        "only", "or", "other", "our", "ours", "ourselves", "out", "over",
        "own", "s", "same", "she", "should", "so", "some", "such", "t",
        "than", "that", "the", "their", "theirs", "them", "themselves",
        "then", "there", "these", "they", "this", "those", "through", "to",
        "too", "under", "until", "up", "very", "was", "we", "were", "what",
        "when", "where", "which", "while", "who", "whom", "why", "will",
        "with", "would", "you", "your", "yours", "yourself", "yourselves",
    };
    size_t i;

    /* every entry is found: the table is sorted */
    for (i = 0; i < sizeof all / sizeof all[0]; i++)
        if (!text_is_stopword(all[i], strlen(all[i]))) {
            fprintf(stderr, "stopword not found: %s\n", all[i]);
            CHECK(0);
        }
    CHECK(!text_is_stopword("catalyst", 8));
    CHECK(!text_is_stopword("it", 2));    /* IT services */
    CHECK(!text_is_stopword("us", 2));
    CHECK(!text_is_stopword("aa", 2));
    CHECK(!text_is_stopword("zzz", 3));
    CHECK(!text_is_stopword("thes", 4));
    CHECK(!text_is_stopword("th", 2));
    CHECK(!text_is_stopword("the", 2));  /* "th": a prefix is not enough */
    CHECK(!text_is_stopword("", 0));
    CHECK(!text_is_stopword(NULL, 3));
    CHECK(!text_is_stopword("yourselvesx", 11));
    CHECK(text_is_stopword("the cat", 3));

    CHECK_STR(toks("The design of THE catalyst", 0),
              "Wthe@1 Wdesign@2 Wof@3 Wthe@4 Wcatalyst@5");
    /* dropped words keep their positions, so phrases can count the gap */
    CHECK_STR(toks("The design of THE catalyst", TEXT_STOPWORDS),
              "Wdesign@2 Wcatalyst@5");
    /* checked before stemming: "wills" stays though its stem is "will" */
    CHECK_STR(toks("doing wills", TEXT_STOPWORDS | TEXT_STEM), "Wwill@2");
    CHECK_STR(toks("IT services", TEXT_STOPWORDS), "Wit@1 Wservices@2");
}

static void test_long_word(void)
{
    char buf[512];

    memset(buf, 'a', 65);
    strcpy(buf + 65, " ok");
    CHECK_STR(toks(buf, 0), "Wok@2");
    memset(buf, 'b', 64);
    strcpy(buf + 64, " ok");
    {
        char want[128];

        snprintf(want, sizeof want, "W%.64s@1 Wok@2", buf);
        CHECK_STR(toks(buf, 0), want);
    }
    /* the limit is on the folded term: 64 full-width letters fit */
    {
        size_t i;
        char *p = buf;

        for (i = 0; i < 64; i++) {
            memcpy(p, "ｃ", 3);
            p += 3;
        }
        strcpy(p, "中");
        CHECK(strstr(toks(buf, 0), "@1 U中@2") != NULL);
        memcpy(p, "ｃ中", 7); /* 65 */
        p[7] = '\0';
        CHECK_STR(toks(buf, 0), "U中@2");
    }
    /* two-byte letters count two bytes: 33 of them are 66 bytes */
    {
        size_t i;

        for (i = 0; i < 33; i++)
            memcpy(buf + 2 * i, "é", 2);
        strcpy(buf + 66, " x");
        CHECK_STR(toks(buf, 0), "Wx@2");
    }
}

static void test_punct(void)
{
    CHECK_STR(toks("催化剂、载体，《聚合》。test", 0),
              "B催化@1 B化剂@2 B载体@4 B聚合@6 Wtest@8");
    CHECK_STR(toks("「氢能」…储能；（光伏）", 0),
              "B氢能@1 B储能@3 B光伏@5");
    CHECK_STR(toks("a,b;c!d?e(f)g\"h'i", 0),
              "Wa@1 Wb@2 Wc@3 Wd@4 We@5 Wf@6 Wg@7 Wh@8 Wi@9");
}

static void test_split(void)
{
    CHECK_STR(toks("state-of-the-art snake_case v1.2 a--b", 0),
              "Wstate@1 Wof@2 Wthe@3 Wart@4 Wsnake@5 Wcase@6 Wv1@7 W2@8 "
              "Wa@9 Wb@10");
}

static void test_diacritics(void)
{
    CHECK_STR(toks("Café NAÏVE Łódź Straße ÀÉÎ", 0),
              "Wcafé@1 Wnaïve@2 Włódź@3 Wstraße@4 Wàéî@5");
    CHECK_STR(toks("NGUYỄN Văn", 0), "Wnguyễn@1 Wvăn@2");
    /* the multiplication and division signs separate */
    CHECK_STR(toks("3×4÷2", 0), "W3@1 W4@2 W2@3");
    /* other symbols and scripts outside the letter ranges separate */
    CHECK_STR(toks("50°C ±5 α-olefin", 0), "W50@1 Wc@2 W5@3 Wolefin@4");
    CHECK_STR(toks("Catalyse Élevée", TEXT_STEM), "Wcatalys@1 Wélevé@2");
}

static void test_invalid(void)
{
    static const char s[] = "abc\xff" "中文\xe4\xb8" "def\xc0\x80" "gh"
                            "\xed\xa0\x80" "ij\x80" "k";
    static const char t[] = "中\xff文";
    static const char u[] = "中\xe6\x96";
    static const char v[] = "\xf4\x90\x80\x80" "x\xf0\x9f\x98\x80y";

    CHECK_STR(toks_at(s, sizeof s - 1, 0, NULL),
              "Wabc@1 B中文@2 Wdef@4 Wgh@5 Wij@6 Wk@7");
    CHECK_STR(toks_at(t, sizeof t - 1, 0, NULL), "U中@1 U文@2");
    CHECK_STR(toks_at(u, sizeof u - 1, TEXT_UNIGRAMS, NULL), "U中@1");
    CHECK_STR(toks_at(v, sizeof v - 1, 0, NULL), "Wx@1 Wy@2");
    /* NUL is a separator like any other control character */
    CHECK_STR(toks_at("ab\0cd", 5, 0, NULL), "Wab@1 Wcd@2");
}

static void test_utf8_valid(void)
{
    CHECK(text_utf8_valid("", 0));
    CHECK(text_utf8_valid(NULL, 0));
    CHECK(!text_utf8_valid(NULL, 1));
    CHECK(text_utf8_valid("abc", 3));
    CHECK(text_utf8_valid("聚丙烯 catalyst ＡＢＣ é", strlen("聚丙烯 catalyst ＡＢＣ é")));
    CHECK(text_utf8_valid("\xc2\x80", 2));           /* U+0080 */
    CHECK(text_utf8_valid("\xe0\xa0\x80", 3));       /* U+0800 */
    CHECK(text_utf8_valid("\xed\x9f\xbf", 3));       /* U+D7FF */
    CHECK(text_utf8_valid("\xee\x80\x80", 3));       /* U+E000 */
    CHECK(text_utf8_valid("\xf0\x90\x80\x80", 4));   /* U+10000 */
    CHECK(text_utf8_valid("\xf4\x8f\xbf\xbf", 4));   /* U+10FFFF */
    CHECK(!text_utf8_valid("\xc0\x80", 2));          /* overlong NUL */
    CHECK(!text_utf8_valid("\xc1\xbf", 2));          /* overlong */
    CHECK(!text_utf8_valid("\xe0\x9f\xbf", 3));      /* overlong 3-byte */
    CHECK(!text_utf8_valid("\xf0\x8f\xbf\xbf", 4));  /* overlong 4-byte */
    CHECK(!text_utf8_valid("\xed\xa0\x80", 3));      /* surrogate D800 */
    CHECK(!text_utf8_valid("\xed\xbf\xbf", 3));      /* surrogate DFFF */
    CHECK(!text_utf8_valid("\xf4\x90\x80\x80", 4));  /* > U+10FFFF */
    CHECK(!text_utf8_valid("\xf5\x80\x80\x80", 4));
    CHECK(!text_utf8_valid("\xff", 1));
    CHECK(!text_utf8_valid("\x80", 1));              /* lone continuation */
    CHECK(!text_utf8_valid("\xe4\xb8", 2));          /* truncated */
    CHECK(!text_utf8_valid("\xe4\xb8\xad", 2));      /* cut by n */
    CHECK(!text_utf8_valid("\xe4" "a\xad", 3));      /* bad continuation */
    CHECK(!text_utf8_valid("a\0b", 3));              /* NUL */
    /* NUL and bad bytes found wherever they sit in the 8-byte fast path */
    {
        char buf[40];
        size_t i;

        memset(buf, 'x', sizeof buf);
        CHECK(text_utf8_valid(buf, sizeof buf));
        for (i = 0; i < sizeof buf; i++) {
            buf[i] = '\0';
            CHECK(!text_utf8_valid(buf, sizeof buf));
            buf[i] = (char)0x80;
            CHECK(!text_utf8_valid(buf, sizeof buf));
            buf[i] = 'x';
        }
    }
}

static void test_detect_lang(void)
{
    CHECK_STR(text_detect_lang("", 0), "en");
    CHECK_STR(text_detect_lang(NULL, 0), "en");
    CHECK_STR(text_detect_lang("2024 — 12.5%", strlen("2024 — 12.5%")), "en");
    CHECK_STR(text_detect_lang("聚丙烯催化剂", strlen("聚丙烯催化剂")), "zh");
    CHECK_STR(text_detect_lang("polypropylene catalyst", 22), "en");
    /* 6 CJK against 20 Latin letters: 23% */
    CHECK_STR(text_detect_lang("聚丙烯催化剂 polypropylene catalyst",
                               strlen("聚丙烯催化剂 polypropylene catalyst")),
              "zh");
    /* the 20% edge: 1 of 5 is zh, 1 of 6 is en; digits are not letters */
    CHECK_STR(text_detect_lang("中abcd", strlen("中abcd")), "zh");
    CHECK_STR(text_detect_lang("中abcde", strlen("中abcde")), "en");
    CHECK_STR(text_detect_lang("中abcd 12345", strlen("中abcd 12345")), "zh");
    CHECK_STR(text_detect_lang("ひらがな", strlen("ひらがな")), "zh");
    CHECK_STR(text_detect_lang("Ｃａｔ", strlen("Ｃａｔ")), "en");
    CHECK_STR(text_detect_lang("\xff\xfe", 2), "en");
}

static void test_early_stop(void)
{
    struct collect c;
    unsigned pos = 0;
    const char *s = "one two three four";
    const char *z = "燃料电池";

    memset(&c, 0, sizeof c);
    c.stop_after = 3;
    CHECK_INT(text_tokenize(tk, s, strlen(s), 0, &pos, collect_fn, &c),
              KX_CONFLICT);
    CHECK_INT(c.ntok, 3);
    CHECK_STR(c.out, "Wone@1 Wtwo@2 Wthree@3");
    CHECK_INT(pos, 3);

    /* stopping on a bigram, and on the final flush of a lone character */
    memset(&c, 0, sizeof c);
    c.stop_after = 2;
    pos = 0;
    CHECK_INT(text_tokenize(tk, z, strlen(z), TEXT_UNIGRAMS, &pos, collect_fn,
                            &c), KX_CONFLICT);
    CHECK_STR(c.out, "U燃@1 B燃料@1");
    memset(&c, 0, sizeof c);
    c.stop_after = 2;
    pos = 0;
    CHECK_INT(text_tokenize(tk, "ab 油", strlen("ab 油"), 0, &pos, collect_fn,
                            &c), KX_CONFLICT);
    CHECK_STR(c.out, "Wab@1 U油@2");
    /* stopping on the very last token still says so */
    memset(&c, 0, sizeof c);
    c.stop_after = 1;
    pos = 0;
    CHECK_INT(text_tokenize(tk, "ab", 2, 0, &pos, collect_fn, &c),
              KX_CONFLICT);
    CHECK_INT(pos, 1);
}

static void test_pos_across_calls(void)
{
    unsigned pos = 0;

    CHECK_STR(toks_at("machine learning", 16, 0, &pos),
              "Wmachine@1 Wlearning@2");
    CHECK_INT(pos, 2);
    CHECK_STR(toks_at("燃料电池", strlen("燃料电池"), 0, &pos),
              "B燃料@3 B料电@4 B电池@5");
    CHECK_INT(pos, 6);
    /* a run does not continue across calls */
    CHECK_STR(toks_at("中", strlen("中"), 0, &pos), "U中@7");
    CHECK_STR(toks_at("", 0, 0, &pos), "");
    CHECK_INT(pos, 7);
    pos = 100;
    CHECK_STR(toks_at("x", 1, 0, &pos), "Wx@101");
    CHECK_INT(pos, 101);
}

static void test_kana_hangul(void)
{
    CHECK_STR(toks("ひらがな", 0), "Bひら@1 Bらが@2 Bがな@3");
    CHECK_STR(toks("カタカナ", 0), "Bカタ@1 Bタカ@2 Bカナ@3");
    CHECK_STR(toks("한국어", TEXT_UNIGRAMS),
              "U한@1 B한국@1 U국@2 B국어@2 U어@3");
    /* the prolonged sound mark is part of a word, the middle dot is not */
    CHECK_STR(toks("コーヒー・ジョン", 0),
              "Bコー@1 Bーヒ@2 Bヒー@3 Bジョ@5 Bョン@6");
    /* ideographs of extension A, B and the compatibility block */
    CHECK_STR(toks("\xe3\x90\x80\xf0\xa0\x80\x80\xef\xa4\x80", 0),
              "B\xe3\x90\x80\xf0\xa0\x80\x80@1 "
              "B\xf0\xa0\x80\x80\xef\xa4\x80@2");
    /* CJK punctuation and symbols separate */
    CHECK_STR(toks("日\xe3\x80\x80本\xe3\x80\x85", 0), "U日@1 U本@2");
}

static void test_bad_args(void)
{
    struct collect c;
    unsigned pos = 5;

    memset(&c, 0, sizeof c);
    CHECK_INT(text_tokenize(NULL, "a", 1, 0, &pos, collect_fn, &c),
              KX_BADINPUT);
    CHECK_INT(text_tokenize(tk, "a", 1, 0, &pos, NULL, &c), KX_BADINPUT);
    CHECK_INT(text_tokenize(tk, NULL, 1, 0, &pos, collect_fn, &c),
              KX_BADINPUT);
    CHECK_INT(pos, 5);
    CHECK_INT(c.ntok, 0);
    CHECK_INT(text_tokenize(tk, NULL, 0, 0, &pos, collect_fn, &c), KX_OK);
    CHECK_INT(pos, 5);
    /* without pos_io positions start at 1 */
    CHECK_INT(text_tokenize(tk, "a b", 3, 0, NULL, collect_fn, &c), KX_OK);
    CHECK_STR(c.out, "Wa@1 Wb@2");
    CHECK_INT(text_tokenizer_new(NULL), KX_BADINPUT);
    text_tokenizer_free(NULL);
}

/* ---- throughput (printed, not asserted) -------------------------------- */

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 8;
}

static const char *const zh_words[] = {
    "聚丙烯", "催化剂", "燃料电池", "人工智能", "机器学习", "新能源", "材料",
    "技术", "研发", "企业", "专家", "需求", "合作", "工艺", "优化", "检测",
    "半导体", "芯片", "设计", "储能", "锂电池", "氢能", "智能制造", "数据",
    "平台", "系统", "生物医药", "基因", "环境", "污染", "治理", "农业",
};
static const char *const en_words[] = {
    "the", "catalyst", "running", "polypropylene", "machine", "learning",
    "of", "and", "fuel", "cell", "energy", "storage", "battery", "design",
    "optimization", "semiconductor", "process", "materials", "research",
    "development", "with", "for", "a", "in", "expert", "enterprise",
    "requirements", "testing", "data", "platform", "systems", "2024",
};
static const char *const zh_punct[] = {"，", "。", "、", "；", "："};

/* An open English-like vocabulary, so that the stem cache is measured on
 * many distinct words: word i is 2-4 syllables and a suffix, and i is drawn
 * log-uniformly (roughly Zipf) from 0..VOCAB-1. */
#define VOCAB 50000

static size_t gen_word(char *out, uint32_t i)
{
    static const char *const syl[] = {
        "ca", "ta", "ly", "pro", "pyl", "ene", "cat", "mer", "po", "lo",
        "gen", "ter", "con", "duc", "tor", "hy", "dro", "ox", "ide", "fil",
        "tra", "tion", "ma", "te", "ri", "al", "bio", "syn", "the", "sis",
    };
    static const char *const suf[] = {
        "", "s", "ing", "ed", "ation", "ly", "ness", "izer",
    };
    size_t n = 0, k, nsyl = 2 + i % 3;
    uint32_t v = i / 3;

    for (k = 0; k < nsyl; k++) {
        const char *p = syl[v % 30];

        memcpy(out + n, p, strlen(p));
        n += strlen(p);
        v /= 30;
    }
    memcpy(out + n, suf[i % 8], strlen(suf[i % 8]));
    return n + strlen(suf[i % 8]);
}

static size_t gen_en_word(char *out)
{
    double u = (double)(rnd() % 1000000) / 1e6;
    uint32_t i;

    if (rnd() % 10 < 3) {
        const char *w = en_words[rnd() % (sizeof en_words /
                                          sizeof en_words[0])];

        memcpy(out, w, strlen(w));
        return strlen(w);
    }
    i = (uint32_t)pow(VOCAB, u) - 1;
    return gen_word(out, i < VOCAB ? i : VOCAB - 1);
}

/* Fills buf with up to n bytes of the shipped sample records, repeated;
 * returns the length, 0 if they cannot be read. */
static size_t load_records(char *buf, size_t n)
{
#ifdef KX_SOURCE_DIR
    static const char *const files[] = {
        KX_SOURCE_DIR "/datasets/binzhou/experts.jsonl",
        KX_SOURCE_DIR "/datasets/binzhou/enterprises.jsonl",
    };
    size_t len = 0, f, got;

    for (f = 0; f < 2; f++) {
        FILE *fp = fopen(files[f], "rb");

        if (!fp)
            return 0;
        got = fread(buf + len, 1, n / 4 - len, fp);
        fclose(fp);
        len += got;
    }
    if (!len)
        return 0;
    got = len;
    while (len + got <= n) {
        memcpy(buf + len, buf, got);
        len += got;
    }
    return len;
#else
    (void)buf;
    (void)n;
    return 0;
#endif
}

/* Appends generated text of the given kind (0 zh, 1 en, 2 mixed, 3 the
 * sample records) to buf until it holds about n bytes; returns the length. */
static size_t gen_text(char *buf, size_t n, int kind)
{
    size_t len = 0;

    if (kind == 3)
        return load_records(buf, n);

    while (len + 64 < n) {
        int zh = kind == 0 || (kind == 2 && rnd() % 3 != 0);

        if (zh) {
            const char *w =
                zh_words[rnd() % (sizeof zh_words / sizeof zh_words[0])];

            memcpy(buf + len, w, strlen(w));
            len += strlen(w);
        } else {
            len += gen_en_word(buf + len);
        }
        if (zh && rnd() % 4 == 0) {
            const char *p = zh_punct[rnd() % 5];

            memcpy(buf + len, p, strlen(p));
            len += strlen(p);
        } else if (!zh || kind == 2) {
            buf[len++] = rnd() % 10 == 0 ? '.' : ' ';
        }
    }
    return len;
}

/* The stem cache gives what the stemmer gives, for many more distinct
 * words than it has slots (so slots collide), on first and repeated use,
 * and at its 31-byte edge. */
struct stem_check {
    xap_stemmer *ref;
    long n, bad;
};

static int stem_check_fn(void *ctx, const struct text_token *tok)
{
    struct stem_check *c = ctx;
    char want[160];
    char lower[80];
    size_t i, wl;

    for (i = 0; i < tok->raw_len && i < sizeof lower; i++)
        lower[i] = (char)(tok->raw[i] >= 'A' && tok->raw[i] <= 'Z'
                              ? tok->raw[i] + 32 : tok->raw[i]);
    wl = xap_stem(c->ref, lower, tok->raw_len, want, sizeof want);
    if (wl != tok->len || memcmp(want, tok->s, wl) != 0) {
        if (c->bad < 5)
            fprintf(stderr, "stem of %.*s: got %.*s, expected %s\n",
                    (int)tok->raw_len, tok->raw, (int)tok->len, tok->s, want);
        c->bad++;
    }
    c->n++;
    return 0;
}

static void test_stem_cache(void)
{
    struct stem_check c = {NULL, 0, 0};
    char w[96];
    uint32_t i;
    int pass;

    CHECK_INT(xap_stemmer_new("english", &c.ref), KX_OK);
    if (!c.ref)
        return;
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < VOCAB; i += 1 + pass) {
            size_t n = gen_word(w, i);
            unsigned pos = 0;

            if (i % 7 == 0)
                w[0] = (char)(w[0] - 32); /* folded before the cache */
            CHECK_INT(text_tokenize(tk, w, n, TEXT_STEM, &pos, stem_check_fn,
                                    &c), KX_OK);
        }
    }
    /* 30, 31, 32 and 33 bytes, twice each */
    for (pass = 0; pass < 2; pass++) {
        size_t n;

        for (n = 30; n <= 33; n++) {
            unsigned pos = 0;

            memset(w, 'x', n - 7);
            memcpy(w + n - 7, "ational", 7);
            CHECK_INT(text_tokenize(tk, w, n, TEXT_STEM, &pos, stem_check_fn,
                                    &c), KX_OK);
        }
    }
    CHECK_INT(c.n, VOCAB + VOCAB / 2 + 8);
    CHECK_INT(c.bad, 0);
    xap_stemmer_free(c.ref);
}

static int count_fn(void *ctx, const struct text_token *tok)
{
    size_t *n = ctx;

    *n += tok->len;
    return 0;
}

static void test_throughput(void)
{
    static const char *const names[] = {"chinese", "english", "mixed",
                                        "records"};
    static const unsigned fl[] = {TEXT_UNIGRAMS | TEXT_STEM, TEXT_UNIGRAMS,
                                  TEXT_STOPWORDS};
    static const char *const flnames[] = {"index(uni+stem)", "uni",
                                          "query(stop)"};
    size_t cap = 4u << 20;
    char *buf = malloc(cap);
    int kind;
    size_t f;

    CHECK(buf != NULL);
    if (!buf)
        return;
    for (kind = 0; kind < 4; kind++) {
        size_t n = gen_text(buf, cap, kind);

        if (!n)
            continue; /* no sample records outside the CMake build */
        CHECK(text_utf8_valid(buf, n));
        for (f = 0; f < 3; f++) {
            struct timespec a, b;
            size_t sink = 0;
            unsigned pos = 0;
            double secs;
            int rep, reps = 5;

            clock_gettime(CLOCK_MONOTONIC, &a);
            for (rep = 0; rep < reps; rep++) {
                pos = 0;
                CHECK_INT(text_tokenize(tk, buf, n, fl[f], &pos, count_fn,
                                        &sink), KX_OK);
            }
            clock_gettime(CLOCK_MONOTONIC, &b);
            secs = (double)(b.tv_sec - a.tv_sec) +
                   (double)(b.tv_nsec - a.tv_nsec) / 1e9;
            CHECK(sink > 0);
            printf("     throughput %-8s %-16s %7.1f MB/s (%u positions)\n",
                   names[kind], flnames[f],
                   secs > 0 ? (double)n * reps / secs / 1e6 : 0.0, pos);
        }
        {
            struct timespec a, b;
            double secs;
            int rep, ok = 0;

            clock_gettime(CLOCK_MONOTONIC, &a);
            for (rep = 0; rep < 5; rep++)
                ok += text_utf8_valid(buf, n);
            clock_gettime(CLOCK_MONOTONIC, &b);
            secs = (double)(b.tv_sec - a.tv_sec) +
                   (double)(b.tv_nsec - a.tv_nsec) / 1e9;
            CHECK_INT(ok, 5);
            printf("     throughput %-8s %-16s %7.1f MB/s\n", names[kind],
                   "utf8_valid", secs > 0 ? (double)n * 5 / secs / 1e6 : 0.0);
        }
    }
    free(buf);
}

int main(void)
{
    enum kx_status st = text_tokenizer_new(&tk);

    CHECK_INT(st, KX_OK);
    if (st != KX_OK) {
        fprintf(stderr, "text_tokenizer_new: %s\n", kx_status_str(st));
        return 1;
    }
    RUN(test_chinese);
    RUN(test_single_cjk);
    RUN(test_mixed);
    RUN(test_raw);
    RUN(test_fullwidth);
    RUN(test_stem);
    RUN(test_stopwords);
    RUN(test_long_word);
    RUN(test_punct);
    RUN(test_split);
    RUN(test_diacritics);
    RUN(test_invalid);
    RUN(test_utf8_valid);
    RUN(test_detect_lang);
    RUN(test_early_stop);
    RUN(test_pos_across_calls);
    RUN(test_kana_hangul);
    RUN(test_bad_args);
    RUN(test_stem_cache);
    RUN(test_throughput);
    text_tokenizer_free(tk);
    return check_report();
}
