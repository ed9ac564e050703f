/*
 * form: checklists in YAML and the checking of answers against them.
 * The format is documented in share/man/fieldbook-forms.5.
 *
 * Loading uses libyaml's document API so that every node keeps its
 * line and column for error messages.  Mappings are parsed through field
 * tables (key -> applicable item types -> parser); item types through the
 * OPS table (name, load check, text parser, answer check, failure test).
 */
#include "core/form.h"
#include "core/error.h"
#include "core/i18n.h"
#include "core/util.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define MAX_FORM_BYTES (1024 * 1024)
#define MAX_ID_LEN 64
#define MAX_DAYS 3650
#define MAX_PHOTOS 9999

typedef struct {
	char *zh, *en;
} text2;

typedef struct {
	char *value;
	text2 label;
} choice_t;

/* `when`: shown/applies only when item's answer is one of in[]. */
typedef struct {
	bool set;
	size_t item;
	char **in;
	size_t n_in;
} cond_t;

typedef struct {
	bool has_below, has_above;
	double below, above;
	cond_t when;
} rule_t;

struct form_item {
	char *id;
	form_item_type type;
	text2 label;
	bool required, personal, na;
	char *unit;
	bool has_min, has_max;
	double min, max;
	choice_t *choices;
	size_t n_choices;
	char **fail_values;
	size_t n_fail;
	rule_t *rules;
	size_t n_rules;
	int photos_min;
	cond_t when;
	bool has_on_fail, fail_photo;
	text2 basis;
	int days;
};

struct form {
	char *text;
	size_t len;
	char *id;
	int version;
	text2 title;
	char *cat_code;
	text2 cat;
	form_item *items;
	size_t n_items;
};

/* ---------------------------------------------------------------- free */

static void text2_free(text2 *t)
{
	free(t->zh);
	free(t->en);
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void cond_free(cond_t *c)
{
	strv_free(c->in, c->n_in);
}

static void item_free(form_item *it)
{
	free(it->id);
	text2_free(&it->label);
	free(it->unit);
	for (size_t i = 0; i < it->n_choices; i++) {
		free(it->choices[i].value);
		text2_free(&it->choices[i].label);
	}
	free(it->choices);
	strv_free(it->fail_values, it->n_fail);
	for (size_t i = 0; i < it->n_rules; i++)
		cond_free(&it->rules[i].when);
	free(it->rules);
	cond_free(&it->when);
	text2_free(&it->basis);
}

void form_free(form *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_items; i++)
		item_free(&f->items[i]);
	free(f->items);
	free(f->text);
	free(f->id);
	text2_free(&f->title);
	free(f->cat_code);
	text2_free(&f->cat);
	free(f);
}

/* ---------------------------------------------------------------- text */

/* Length of the valid UTF-8 sequence at s (1..4), 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	unsigned cp = c & (0x3f >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Offset of the first invalid byte, or len when all is valid UTF-8. */
static size_t utf8_check(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		size_t k = utf8_seq(u + i, len - i);
		if (!k)
			return i;
		i += k;
	}
	return len;
}

/* Line and column (0-based, column in characters) of a byte offset. */
static yaml_mark_t mark_at(const char *s, size_t off)
{
	yaml_mark_t m = { .index = off };
	for (size_t i = 0; i < off; i++) {
		if (s[i] == '\n')
			m.line++, m.column = 0;
		else if ((s[i] & 0xc0) != 0x80)
			m.column++;
	}
	return m;
}

/* Byte offset of a (line, column) mark, or len when past the end. */
static size_t offset_of(const char *s, size_t len, yaml_mark_t m)
{
	size_t i = 0, line = 0, col = 0;
	while (i < len && line < m.line)
		if (s[i++] == '\n')
			line++;
	while (i < len && col < m.column && s[i] != '\n') {
		i++;
		while (i < len && (s[i] & 0xc0) == 0x80)
			i++;
		col++;
	}
	return i;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* New string: s without surrounding ASCII white space. */
static char *trim_dup(const char *s)
{
	while (is_space(*s))
		s++;
	size_t n = strlen(s);
	while (n && is_space(s[n - 1]))
		n--;
	return strndup(s, n);
}

static bool blank(const char *s)
{
	while (is_space(*s))
		s++;
	return !*s;
}

/* Every byte of s is in the class: a-z 0-9 _ - (form ids), A-Za-z0-9_
 * (item ids), A-Za-z0-9_.- (choice values). */
enum { WORD_FORM_ID, WORD_ITEM_ID, WORD_VALUE };

static bool word_ok(const char *s, int kind)
{
	static const char *extra[] = { "_-", "_", "_.-" };
	size_t n = strlen(s);
	if (n == 0 || n > MAX_ID_LEN)
		return false;
	for (; *s; s++) {
		char c = *s;
		bool lower = c >= 'a' && c <= 'z', digit = c >= '0' && c <= '9';
		bool upper = c >= 'A' && c <= 'Z';
		if (lower || digit || (upper && kind != WORD_FORM_ID))
			continue;
		if (!strchr(extra[kind], c))
			return false;
	}
	return true;
}

/* Decimal number: [+-]digits[.digits] (or .digits), at most 15 digits, no
 * exponent, independent of the locale.  *is_int: no fraction part. */
static bool parse_decimal(const char *s, double *out, bool *is_int)
{
	bool neg = *s == '-';
	if (*s == '-' || *s == '+')
		s++;
	uint64_t mant = 0;
	int digits = 0, frac = -1;
	for (; *s; s++) {
		if (*s == '.' && frac < 0) {
			frac = 0;
			continue;
		}
		if (*s < '0' || *s > '9' || ++digits > 15)
			return false;
		mant = mant * 10 + (uint64_t)(*s - '0');
		if (frac >= 0)
			frac++;
	}
	if (digits == 0 || frac == 0)
		return false;
	/* one correctly rounded division: 10^frac is exact up to 10^22 */
	double v = (double)mant, p = 1;
	for (int i = 0; i < frac; i++)
		p *= 10;
	v /= p;
	*out = neg ? -v : v;
	if (is_int)
		*is_int = frac < 0;
	return true;
}

/* -------------------------------------------------------------- loader */

typedef struct {
	const char *name;
	const char *text;
	size_t len;
	yaml_document_t doc;
	form *f;
	size_t idx;          /* index of the item being parsed */
	yaml_node_t *items;  /* the items list */
} loader;

static int at(const loader *L, yaml_mark_t m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int at(const loader *L, yaml_mark_t m, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return error_set(ERR_FORM, "%s:%zu:%zu: %s", L->name, m.line + 1,
			 m.column + 1, msg);
}

static int nomem(void)
{
	return error_set(ERR_NOMEM, _("out of memory"));
}

static yaml_node_t *node(loader *L, int id)
{
	return yaml_document_get_node(&L->doc, id);
}

/* Scalar text; NULL (with the error set) when n is not a plain value. */
static const char *scalar(loader *L, yaml_node_t *n, int *rc)
{
	const char *s;
	if (n->type != YAML_SCALAR_NODE) {
		*rc = at(L, n->start_mark,
			 _("expected a single value here, not a list or mapping"));
		return NULL;
	}
	s = (const char *)n->data.scalar.value;
	if (strlen(s) != n->data.scalar.length) {
		*rc = at(L, n->start_mark, _("the value contains a NUL character"));
		return NULL;
	}
	return s;
}

static yaml_node_t *lookup(loader *L, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;
	if (map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(L, p->key);
		if (k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return node(L, p->value);
	}
	return NULL;
}

static size_t seq_len(yaml_node_t *n)
{
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *seq_at(loader *L, yaml_node_t *n, size_t i)
{
	return node(L, n->data.sequence.items.start[i]);
}

/* A non-empty list; error otherwise. */
static int need_seq(loader *L, yaml_node_t *n, const char *key)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return at(L, n->start_mark,
			  _("\"%s\" must be a list ([a, b] or lines starting with \"- \")"),
			  key);
	if (seq_len(n) == 0)
		return at(L, n->start_mark, _("\"%s\" is an empty list"), key);
	return 0;
}

static int get_str(loader *L, yaml_node_t *n, char **out)
{
	int rc = 0;
	const char *s = scalar(L, n, &rc);
	if (!s)
		return rc;
	if (blank(s))
		return at(L, n->start_mark, _("the value is empty"));
	free(*out);
	*out = strdup(s);
	return *out ? 0 : nomem();
}

static int get_bool(loader *L, yaml_node_t *n, bool *out)
{
	int rc = 0;
	const char *s = scalar(L, n, &rc);
	if (!s)
		return rc;
	if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
		*out = s[0] == 't';
		return 0;
	}
	return at(L, n->start_mark, _("expected true or false, got \"%s\""), s);
}

static int get_int(loader *L, yaml_node_t *n, int lo, int hi, int *out)
{
	int rc = 0;
	double v;
	bool is_int;
	const char *s = scalar(L, n, &rc);
	if (!s)
		return rc;
	if (!parse_decimal(s, &v, &is_int) || !is_int || v < lo || v > hi)
		return at(L, n->start_mark,
			  _("expected a whole number from %d to %d, got \"%s\""), lo,
			  hi, s);
	*out = (int)v;
	return 0;
}

static int get_num(loader *L, yaml_node_t *n, double *out)
{
	int rc = 0;
	const char *s = scalar(L, n, &rc);
	if (!s)
		return rc;
	if (!parse_decimal(s, out, NULL))
		return at(L, n->start_mark,
			  _("expected a decimal number such as 2.5, got \"%s\""), s);
	return 0;
}

/* --------------------------------------------------------- field tables */

#define T(x) (1u << FORM_##x)
#define ALL_TYPES 0x3fu
#define CAN_FAIL (T(PASSFAIL) | T(NUMBER) | T(CHOICE) | T(MULTI))

typedef int (*field_fn)(loader *L, yaml_node_t *v, void *obj);

typedef struct {
	const char *key;
	unsigned types; /* item types the key applies to */
	field_fn fn;    /* NULL: read elsewhere */
	bool required;
} field;

static const char *type_name_of_bit(unsigned typebit);

static void list_keys(char *buf, size_t size, const field *tab, size_t n,
		     unsigned typebit)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((tab[i].types & typebit) && used < size)
			used += (size_t)snprintf(buf + used, size - used, "%s%s",
						 used ? ", " : "", tab[i].key);
}

/* Keys of map: known, applicable to typebit, not repeated. */
static int check_keys(loader *L, yaml_node_t *map, const field *tab, size_t n,
		      unsigned typebit, const char *what)
{
	unsigned seen = 0;
	yaml_node_pair_t *p;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(L, p->key);
		int rc = 0;
		const char *key = scalar(L, k, &rc);
		size_t i = 0;
		if (!key)
			return rc;
		while (i < n && strcmp(tab[i].key, key) != 0)
			i++;
		if (i == n || !(tab[i].types & typebit)) {
			char keys[512];
			list_keys(keys, sizeof keys, tab, n, typebit);
			if (i < n)
				return at(L, k->start_mark,
					  _("key \"%s\" does not apply to %s items; they take: %s"),
					  key, type_name_of_bit(typebit), keys);
			return at(L, k->start_mark,
				  _("unknown key \"%s\" in %s; expected one of: %s"),
				  key, what, keys);
		}
		if (seen & (1u << i))
			return at(L, k->start_mark, _("key \"%s\" appears twice in %s"),
				  key, what);
		seen |= 1u << i;
	}
	return 0;
}

/* Parse a mapping with a field table, in table order (so later fields can
 * rely on earlier ones). */
static int parse_map(loader *L, yaml_node_t *map, const field *tab, size_t n,
		     unsigned typebit, void *obj, const char *what)
{
	if (map->type != YAML_MAPPING_NODE)
		return at(L, map->start_mark,
			  _("%s must be a mapping of keys to values"), what);
	int rc = check_keys(L, map, tab, n, typebit, what);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!(tab[i].types & typebit))
			continue;
		yaml_node_t *v = lookup(L, map, tab[i].key);
		if (!v && tab[i].required)
			rc = at(L, map->start_mark, _("missing \"%s\" in %s"),
				tab[i].key, what);
		else if (v && tab[i].fn)
			rc = tab[i].fn(L, v, obj);
	}
	return rc;
}

#define PARSE_MAP(L, map, tab, typebit, obj, what) \
	parse_map(L, map, tab, sizeof tab / sizeof tab[0], typebit, obj, what)

/* --------------------------------------------------- bilingual texts */

static int t_zh(loader *L, yaml_node_t *v, void *o) { return get_str(L, v, &((text2 *)o)->zh); }
static int t_en(loader *L, yaml_node_t *v, void *o) { return get_str(L, v, &((text2 *)o)->en); }

static const field TEXT2_FIELDS[] = {
	{ "zh", ALL_TYPES, t_zh, true },
	{ "en", ALL_TYPES, t_en, true },
};

static int get_text2(loader *L, yaml_node_t *v, text2 *t, const char *key)
{
	return PARSE_MAP(L, v, TEXT2_FIELDS, ALL_TYPES, t, key);
}

/* ----------------------------------------------------------- conditions */

static form_item *cur(loader *L)
{
	return &L->f->items[L->idx];
}

static const char *PF_VALUES[] = { "pass", "fail", "na" };

/* Is value a possible answer of item t (for `when` lists)? */
static bool value_of(const form_item *t, const char *value)
{
	if (t->type == FORM_PASSFAIL) {
		for (size_t i = 0; i < 3; i++)
			if (strcmp(PF_VALUES[i], value) == 0)
				return true;
		return false;
	}
	for (size_t i = 0; i < t->n_choices; i++)
		if (strcmp(t->choices[i].value, value) == 0)
			return true;
	return false;
}

static int c_item(loader *L, yaml_node_t *v, void *o)
{
	cond_t *c = o;
	int rc = 0;
	const char *id = scalar(L, v, &rc);
	if (!id)
		return rc;
	for (size_t i = 0; i < L->idx; i++) {
		const form_item *t = &L->f->items[i];
		if (strcmp(t->id, id) != 0)
			continue;
		if (t->type != FORM_PASSFAIL && t->type != FORM_CHOICE &&
		    t->type != FORM_MULTI)
			return at(L, v->start_mark,
				  _("\"when\" refers to %s, a %s item; conditions need a passfail, choice or multi item"),
				  id, form_item_type_name(t->type));
		c->set = true;
		c->item = i;
		return 0;
	}
	for (size_t i = L->idx; i < seq_len(L->items); i++) {
		yaml_node_t *later = lookup(L, seq_at(L, L->items, i), "id");
		if (later && later->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)later->data.scalar.value, id) == 0)
			return at(L, v->start_mark,
				  _("\"when\" refers to %s, which is not before this item; conditions may only refer to earlier items"),
				  id);
	}
	return at(L, v->start_mark, _("\"when\" refers to unknown item \"%s\""), id);
}

static int cond_add(loader *L, cond_t *c, yaml_node_t *v)
{
	const form_item *t = &L->f->items[c->item];
	int rc = 0;
	const char *s = scalar(L, v, &rc);
	if (!s)
		return rc;
	if (!value_of(t, s))
		return at(L, v->start_mark,
			  _("\"%s\" is not a possible answer of %s"), s, t->id);
	char **in = realloc(c->in, (c->n_in + 1) * sizeof *in);
	if (!in)
		return nomem();
	c->in = in;
	c->in[c->n_in] = strdup(s);
	return c->in[c->n_in++] ? 0 : nomem();
}

static int c_in(loader *L, yaml_node_t *v, void *o)
{
	cond_t *c = o;
	int rc = need_seq(L, v, "in");
	for (size_t i = 0; rc == 0 && i < seq_len(v); i++)
		rc = cond_add(L, c, seq_at(L, v, i));
	return rc;
}

static int c_equals(loader *L, yaml_node_t *v, void *o)
{
	cond_t *c = o;
	if (c->n_in)
		return at(L, v->start_mark, _("use either \"in\" or \"equals\", not both"));
	return cond_add(L, c, v);
}

static const field COND_FIELDS[] = {
	{ "item", ALL_TYPES, c_item, true },
	{ "in", ALL_TYPES, c_in, false },
	{ "equals", ALL_TYPES, c_equals, false },
};

static int get_cond(loader *L, yaml_node_t *v, cond_t *c)
{
	int rc = PARSE_MAP(L, v, COND_FIELDS, ALL_TYPES, c, "when");
	if (rc == 0 && c->n_in == 0)
		rc = at(L, v->start_mark,
			_("\"when\" needs \"in: [values]\" or \"equals: value\""));
	return rc;
}

/* ---------------------------------------------------------- item fields */

static int i_label(loader *L, yaml_node_t *v, void *o)
{
	return get_text2(L, v, &((form_item *)o)->label, "label");
}

static int i_required(loader *L, yaml_node_t *v, void *o) { return get_bool(L, v, &((form_item *)o)->required); }
static int i_personal(loader *L, yaml_node_t *v, void *o) { return get_bool(L, v, &((form_item *)o)->personal); }
static int i_na(loader *L, yaml_node_t *v, void *o) { return get_bool(L, v, &((form_item *)o)->na); }
static int i_unit(loader *L, yaml_node_t *v, void *o) { return get_str(L, v, &((form_item *)o)->unit); }
static int i_when(loader *L, yaml_node_t *v, void *o) { return get_cond(L, v, &((form_item *)o)->when); }

static int i_min(loader *L, yaml_node_t *v, void *o)
{
	form_item *it = o;
	it->has_min = true;
	return get_num(L, v, &it->min);
}

static int i_max(loader *L, yaml_node_t *v, void *o)
{
	form_item *it = o;
	int rc = get_num(L, v, &it->max);
	it->has_max = true;
	if (rc == 0 && it->has_min && it->min > it->max)
		rc = at(L, v->start_mark, _("min (%g) is greater than max (%g)"),
			it->min, it->max);
	return rc;
}

static int r_below(loader *L, yaml_node_t *v, void *o)
{
	rule_t *r = o;
	r->has_below = true;
	return get_num(L, v, &r->below);
}

static int r_above(loader *L, yaml_node_t *v, void *o)
{
	rule_t *r = o;
	r->has_above = true;
	return get_num(L, v, &r->above);
}

static int r_when(loader *L, yaml_node_t *v, void *o) { return get_cond(L, v, &((rule_t *)o)->when); }

static const field RULE_FIELDS[] = {
	{ "below", ALL_TYPES, r_below, false },
	{ "above", ALL_TYPES, r_above, false },
	{ "when", ALL_TYPES, r_when, false },
};

static int i_fail_if(loader *L, yaml_node_t *v, void *o)
{
	form_item *it = o;
	int rc = need_seq(L, v, "fail_if");
	if (rc)
		return rc;
	it->rules = calloc(seq_len(v), sizeof *it->rules);
	if (!it->rules)
		return nomem();
	for (size_t i = 0; i < seq_len(v) && rc == 0; i++) {
		yaml_node_t *r = seq_at(L, v, i);
		rule_t *rule = &it->rules[it->n_rules++];
		rc = PARSE_MAP(L, r, RULE_FIELDS, ALL_TYPES, rule, "fail_if");
		if (rc == 0 && !rule->has_below && !rule->has_above)
			rc = at(L, r->start_mark,
				_("a fail_if rule needs \"below\" or \"above\""));
	}
	return rc;
}

static int ch_value(loader *L, yaml_node_t *v, void *o)
{
	choice_t *c = o;
	int rc = get_str(L, v, &c->value);
	if (rc == 0 && !word_ok(c->value, WORD_VALUE))
		rc = at(L, v->start_mark,
			_("choice value \"%s\" must be a short word of letters, digits, _ . or -"),
			c->value);
	return rc;
}

static int ch_zh(loader *L, yaml_node_t *v, void *o) { return get_str(L, v, &((choice_t *)o)->label.zh); }
static int ch_en(loader *L, yaml_node_t *v, void *o) { return get_str(L, v, &((choice_t *)o)->label.en); }

static const field CHOICE_FIELDS[] = {
	{ "value", ALL_TYPES, ch_value, true },
	{ "zh", ALL_TYPES, ch_zh, true },
	{ "en", ALL_TYPES, ch_en, true },
};

/* The new choice c must not repeat a value or label of an earlier one. */
static int choice_unique(loader *L, yaml_node_t *v, const form_item *it,
			 const choice_t *c)
{
	for (const choice_t *p = it->choices; p < c; p++) {
		const char *dup = strcmp(p->value, c->value) == 0 ? c->value
			: strcmp(p->label.zh, c->label.zh) == 0	 ? c->label.zh
			: strcasecmp(p->label.en, c->label.en) == 0 ? c->label.en
								     : NULL;
		if (dup)
			return at(L, v->start_mark,
				  _("choice \"%s\" appears twice in item %s"), dup,
				  it->id);
	}
	return 0;
}

static int i_choices(loader *L, yaml_node_t *v, void *o)
{
	form_item *it = o;
	int rc = need_seq(L, v, "choices");
	if (rc)
		return rc;
	it->choices = calloc(seq_len(v), sizeof *it->choices);
	if (!it->choices)
		return nomem();
	for (size_t i = 0; i < seq_len(v) && rc == 0; i++) {
		yaml_node_t *c = seq_at(L, v, i);
		choice_t *ch = &it->choices[it->n_choices++];
		rc = PARSE_MAP(L, c, CHOICE_FIELDS, ALL_TYPES, ch, "choice");
		if (rc == 0)
			rc = choice_unique(L, c, it, ch);
	}
	return rc;
}

static int i_fail_values(loader *L, yaml_node_t *v, void *o)
{
	form_item *it = o;
	int rc = need_seq(L, v, "fail_values");
	if (rc)
		return rc;
	it->fail_values = calloc(seq_len(v), sizeof *it->fail_values);
	if (!it->fail_values)
		return nomem();
	for (size_t i = 0; i < seq_len(v) && rc == 0; i++) {
		yaml_node_t *n = seq_at(L, v, i);
		char **s = &it->fail_values[it->n_fail++];
		rc = get_str(L, n, s);
		if (rc == 0 && !value_of(it, *s))
			rc = at(L, n->start_mark,
				_("fail value \"%s\" is not among the choices of item %s"),
				*s, it->id);
	}
	return rc;
}

static int i_photos_min(loader *L, yaml_node_t *v, void *o)
{
	return get_int(L, v, 0, 100, &((form_item *)o)->photos_min);
}

static int of_photo(loader *L, yaml_node_t *v, void *o) { return get_bool(L, v, &((form_item *)o)->fail_photo); }
static int of_basis(loader *L, yaml_node_t *v, void *o) { return get_text2(L, v, &((form_item *)o)->basis, "basis"); }
static int of_days(loader *L, yaml_node_t *v, void *o) { return get_int(L, v, 0, MAX_DAYS, &((form_item *)o)->days); }

static const field ON_FAIL_FIELDS[] = {
	{ "photo", ALL_TYPES, of_photo, false },
	{ "basis", ALL_TYPES, of_basis, false },
	{ "days", ALL_TYPES, of_days, false },
};

static int i_on_fail(loader *L, yaml_node_t *v, void *o)
{
	form_item *it = o;
	it->has_on_fail = true;
	if (it->type == FORM_NUMBER && it->n_rules == 0)
		return at(L, v->start_mark,
			  _("item %s has \"on_fail\" but can never fail: add \"fail_if\" rules"),
			  it->id);
	if ((it->type == FORM_CHOICE || it->type == FORM_MULTI) && it->n_fail == 0)
		return at(L, v->start_mark,
			  _("item %s has \"on_fail\" but can never fail: add \"fail_values\""),
			  it->id);
	return PARSE_MAP(L, v, ON_FAIL_FIELDS, ALL_TYPES, it, "on_fail");
}

/* Table order matters: choices before fail_values, min before max,
 * fail_if and fail_values before on_fail. */
static const field ITEM_FIELDS[] = {
	{ "id", ALL_TYPES, NULL, true },
	{ "type", ALL_TYPES, NULL, true },
	{ "label", ALL_TYPES, i_label, true },
	{ "required", ALL_TYPES, i_required, false },
	{ "personal", ALL_TYPES, i_personal, false },
	{ "na", T(PASSFAIL), i_na, false },
	{ "unit", T(NUMBER), i_unit, false },
	{ "min", T(NUMBER), i_min, false },
	{ "max", T(NUMBER), i_max, false },
	{ "choices", T(CHOICE) | T(MULTI), i_choices, true },
	{ "fail_values", T(CHOICE) | T(MULTI), i_fail_values, false },
	{ "photos_min", T(PHOTOS), i_photos_min, false },
	{ "when", ALL_TYPES, i_when, false },
	{ "fail_if", T(NUMBER), i_fail_if, false },
	{ "on_fail", CAN_FAIL, i_on_fail, false },
};

/* --------------------------------------------------------- answer types */

/* Reason an answer value is wrong, written to why; false when fine. */
typedef bool (*bad_fn)(const form_item *it, const json_t *v, char *why, size_t n);
typedef int (*text_fn)(const form_item *it, const char *text, json_t **out);
typedef bool (*fail_fn)(const form *f, const form_item *it, const json_t *v,
			const json_t *answers);

typedef struct {
	const char *name;
	text_fn parse;
	bad_fn bad;
	fail_fn failed;
} type_ops;

static const char *pick(const text2 *t, const char *lng)
{
	const char *a = t->en, *b = t->zh;
	if (!lng)
		lng = i18n_lang();
	if (strcmp(lng, "zh") == 0)
		a = t->zh, b = t->en;
	return a && *a ? a : b ? b : "";
}

static const char *passfail_words(const form_item *it)
{
	return it->na ? _("pass, fail or na (合格/不合格/不适用)")
		      : _("pass or fail (合格/不合格)");
}

/* "between 0 and 20 m", "at least 0 m", "a number". */
static void range_text(const form_item *it, char *buf, size_t n)
{
	const char *u = it->unit ? it->unit : "";
	const char *sp = *u ? " " : "";
	if (it->has_min && it->has_max)
		snprintf(buf, n, _("a number between %g and %g%s%s"), it->min,
			 it->max, sp, u);
	else if (it->has_min)
		snprintf(buf, n, _("a number of at least %g%s%s"), it->min, sp, u);
	else if (it->has_max)
		snprintf(buf, n, _("a number of at most %g%s%s"), it->max, sp, u);
	else
		snprintf(buf, n, "%s", _("a number"));
}

/* "approved (Approved), none (None)" */
static void choices_text(const form_item *it, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < it->n_choices && used < n; i++)
		used += (size_t)snprintf(buf + used, n - used, "%s%s (%s)",
					 i ? ", " : "", it->choices[i].value,
					 pick(&it->choices[i].label, NULL));
}

static const choice_t *find_choice(const form_item *it, const char *s)
{
	for (size_t i = 0; i < it->n_choices; i++)
		if (strcmp(it->choices[i].value, s) == 0)
			return &it->choices[i];
	return NULL;
}

static bool in_list(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* Short JSON rendering of a value for messages. */
static void show(const json_t *v, char *buf, size_t n)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(10));
	snprintf(buf, n, "%s", s ? s : "?");
	free(s);
}

static bool pf_bad(const form_item *it, const json_t *v, char *why, size_t n)
{
	const char *s = json_string_value(v);
	if (s && (strcmp(s, "pass") == 0 || strcmp(s, "fail") == 0 ||
		  (it->na && strcmp(s, "na") == 0)))
		return false;
	char got[64];
	show(v, got, sizeof got);
	snprintf(why, n, _("must be %s, got %s"), passfail_words(it), got);
	return true;
}

static bool num_bad(const form_item *it, const json_t *v, char *why, size_t n)
{
	double x = json_number_value(v);
	if (json_is_number(v) && isfinite(x) && !(it->has_min && x < it->min) &&
	    !(it->has_max && x > it->max))
		return false;
	char range[128], got[64];
	range_text(it, range, sizeof range);
	show(v, got, sizeof got);
	snprintf(why, n, _("must be %s, got %s"), range, got);
	return true;
}

static bool choice_bad(const form_item *it, const json_t *v, char *why, size_t n)
{
	const char *s = json_string_value(v);
	if (s && find_choice(it, s))
		return false;
	char list[1024], got[64];
	choices_text(it, list, sizeof list);
	show(v, got, sizeof got);
	snprintf(why, n, _("must be one of %s; got %s"), list, got);
	return true;
}

static bool multi_bad(const form_item *it, const json_t *v, char *why, size_t n)
{
	size_t i, j;
	json_t *e;
	if (!json_is_array(v)) {
		char got[64];
		show(v, got, sizeof got);
		snprintf(why, n, _("must be a list of choices, got %s"), got);
		return true;
	}
	json_array_foreach(v, i, e) {
		if (choice_bad(it, e, why, n))
			return true;
		for (j = 0; j < i; j++)
			if (json_equal(e, json_array_get(v, j))) {
				snprintf(why, n, _("lists \"%s\" twice"),
					 json_string_value(e));
				return true;
			}
	}
	return false;
}

static bool text_bad(const form_item *it, const json_t *v, char *why, size_t n)
{
	const char *s = json_string_value(v);
	if (s && !blank(s))
		return false;
	snprintf(why, n, "%s", _("must be a non-empty text"));
	return true;
}

static bool photos_bad(const form_item *it, const json_t *v, char *why, size_t n)
{
	json_int_t k = json_integer_value(v);
	if (json_is_integer(v) && k >= 0 && k <= MAX_PHOTOS)
		return false;
	char got[64];
	show(v, got, sizeof got);
	snprintf(why, n, _("must be a photo count (a whole number, 0 or more), got %s"),
		 got);
	return true;
}

static bool cond_holds(const form *f, const cond_t *c, const json_t *answers);

static bool pf_failed(const form *f, const form_item *it, const json_t *v,
		      const json_t *answers)
{
	return strcmp(json_string_value(v), "fail") == 0;
}

static bool num_failed(const form *f, const form_item *it, const json_t *v,
		       const json_t *answers)
{
	double x = json_number_value(v);
	for (size_t i = 0; i < it->n_rules; i++) {
		const rule_t *r = &it->rules[i];
		if (!cond_holds(f, &r->when, answers))
			continue;
		if ((r->has_below && x < r->below) || (r->has_above && x > r->above))
			return true;
	}
	return false;
}

static bool choice_failed(const form *f, const form_item *it, const json_t *v,
			  const json_t *answers)
{
	return in_list(it->fail_values, it->n_fail, json_string_value(v));
}

static bool multi_failed(const form *f, const form_item *it, const json_t *v,
			 const json_t *answers)
{
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e)
		if (in_list(it->fail_values, it->n_fail, json_string_value(e)))
			return true;
	return false;
}

static bool never_failed(const form *f, const form_item *it, const json_t *v,
			 const json_t *answers)
{
	return false;
}

/* Parsers of user text (already trimmed, non-empty). */

static const struct {
	const char *word, *value;
} PF_WORDS[] = {
	{ "pass", "pass" }, { "p", "pass" }, { "合格", "pass" },
	{ "fail", "fail" }, { "f", "fail" }, { "不合格", "fail" },
	{ "na", "na" },     { "n", "na" },   { "n/a", "na" },
	{ "不适用", "na" },
};

static int pf_parse(const form_item *it, const char *text, json_t **out)
{
	const char *value = text;
	for (size_t i = 0; i < sizeof PF_WORDS / sizeof PF_WORDS[0]; i++)
		if (strcasecmp(PF_WORDS[i].word, text) == 0)
			value = PF_WORDS[i].value;
	*out = json_string(value);
	return *out ? 0 : nomem();
}

static int num_parse(const form_item *it, const char *text, json_t **out)
{
	double v;
	bool is_int;
	if (!parse_decimal(text, &v, &is_int))
		*out = json_string(text);
	else if (is_int)
		*out = json_integer((json_int_t)v);
	else
		*out = json_real(v);
	return *out ? 0 : nomem();
}

/* A choice by value, zh label or en label (case-insensitive for ASCII). */
static const choice_t *match_choice(const form_item *it, const char *s)
{
	for (size_t i = 0; i < it->n_choices; i++) {
		const choice_t *c = &it->choices[i];
		if (strcasecmp(c->value, s) == 0 || strcmp(c->label.zh, s) == 0 ||
		    strcasecmp(c->label.en, s) == 0)
			return c;
	}
	return NULL;
}

static int choice_parse(const form_item *it, const char *text, json_t **out)
{
	const choice_t *c = match_choice(it, text);
	*out = json_string(c ? c->value : text);
	return *out ? 0 : nomem();
}

/* Next element of a list separated by , ， or 、 (trimmed, may be ""). */
static const char *next_elem(const char *s, char **elem)
{
	static const char *seps[] = { ",", "，", "、" };
	const char *end = s + strlen(s);
	size_t seplen = 0;
	for (size_t i = 0; i < 3; i++) {
		const char *p = strstr(s, seps[i]);
		if (p && p < end)
			end = p, seplen = strlen(seps[i]);
	}
	char *raw = strndup(s, (size_t)(end - s));
	*elem = raw ? trim_dup(raw) : NULL;
	free(raw);
	return *end ? end + seplen : NULL;
}

static int multi_parse(const form_item *it, const char *text, json_t **out)
{
	bool *on = calloc(it->n_choices + 1, sizeof *on);
	json_t *arr = json_array();
	const char *s = text;
	int rc = on && arr ? 0 : nomem();
	while (rc == 0 && s) {
		char *e = NULL;
		s = next_elem(s, &e);
		const choice_t *c = e && *e ? match_choice(it, e) : NULL;
		if (!e)
			rc = nomem();
		else if (c)
			on[c - it->choices] = true;
		else if (*e)
			rc = json_array_append_new(arr, json_string(e)) ? nomem() : 0;
		free(e);
	}
	for (size_t i = 0; rc == 0 && i < it->n_choices; i++)
		if (on[i] && json_array_append_new(arr, json_string(it->choices[i].value)))
			rc = nomem();
	free(on);
	if (rc)
		json_decref(arr);
	else
		*out = arr;
	return rc;
}

static int text_parse(const form_item *it, const char *text, json_t **out)
{
	*out = json_string(text);
	return *out ? 0 : nomem();
}

static int photos_parse(const form_item *it, const char *text, json_t **out)
{
	double v;
	bool is_int;
	if (text[0] != '-' && text[0] != '+' && parse_decimal(text, &v, &is_int) &&
	    is_int && v <= MAX_PHOTOS)
		*out = json_integer((json_int_t)v);
	else
		*out = json_string(text);
	return *out ? 0 : nomem();
}

static const type_ops OPS[] = {
	[FORM_PASSFAIL] = { "passfail", pf_parse, pf_bad, pf_failed },
	[FORM_NUMBER] = { "number", num_parse, num_bad, num_failed },
	[FORM_CHOICE] = { "choice", choice_parse, choice_bad, choice_failed },
	[FORM_MULTI] = { "multi", multi_parse, multi_bad, multi_failed },
	[FORM_TEXT] = { "text", text_parse, text_bad, never_failed },
	[FORM_PHOTOS] = { "photos", photos_parse, photos_bad, never_failed },
};

#define N_TYPES (sizeof OPS / sizeof OPS[0])

const char *form_item_type_name(form_item_type t)
{
	return (unsigned)t < N_TYPES ? OPS[t].name : "?";
}

static const char *type_name_of_bit(unsigned typebit)
{
	for (unsigned t = 0; t < N_TYPES; t++)
		if (typebit == 1u << t)
			return OPS[t].name;
	return "?";
}

/* ---------------------------------------------------------------- items */

static int parse_item_id(loader *L, yaml_node_t *map, form_item *it)
{
	yaml_node_t *v = lookup(L, map, "id");
	if (!v)
		return at(L, map->start_mark, _("missing \"id\" in item %zu"),
			  L->idx + 1);
	int rc = get_str(L, v, &it->id);
	if (rc)
		return rc;
	if (!word_ok(it->id, WORD_ITEM_ID))
		return at(L, v->start_mark,
			  _("item id \"%s\" must be letters, digits and _ only (e.g. SB01)"),
			  it->id);
	for (size_t i = 0; i < L->idx; i++)
		if (strcmp(L->f->items[i].id, it->id) == 0)
			return at(L, v->start_mark,
				  _("duplicate item id \"%s\" (already used by item %zu)"),
				  it->id, i + 1);
	return 0;
}

static int parse_item_type(loader *L, yaml_node_t *map, form_item *it)
{
	yaml_node_t *v = lookup(L, map, "type");
	int rc = 0;
	if (!v)
		return at(L, map->start_mark, _("missing \"type\" in item %s"), it->id);
	const char *s = scalar(L, v, &rc);
	if (!s)
		return rc;
	for (unsigned t = 0; t < N_TYPES; t++)
		if (strcmp(OPS[t].name, s) == 0) {
			it->type = (form_item_type)t;
			return 0;
		}
	return at(L, v->start_mark,
		  _("unknown item type \"%s\"; expected passfail, number, choice, multi, text or photos"),
		  s);
}

static int parse_item(loader *L, yaml_node_t *map)
{
	form_item *it = cur(L);
	char what[96];
	int rc;
	it->days = -1;
	if (map->type != YAML_MAPPING_NODE)
		return at(L, map->start_mark,
			  _("each item must be a mapping (id: ..., type: ..., label: ...)"));
	rc = parse_item_id(L, map, it);
	if (rc == 0)
		rc = parse_item_type(L, map, it);
	if (rc)
		return rc;
	snprintf(what, sizeof what, _("item %s"), it->id);
	return PARSE_MAP(L, map, ITEM_FIELDS, 1u << it->type, it, what);
}

/* ---------------------------------------------------------------- form */

static int f_id(loader *L, yaml_node_t *v, void *o)
{
	form *f = o;
	int rc = get_str(L, v, &f->id);
	if (rc == 0 && !word_ok(f->id, WORD_FORM_ID))
		rc = at(L, v->start_mark,
			_("form id \"%s\" must be lowercase letters, digits, _ and - only"),
			f->id);
	return rc;
}

static int f_version(loader *L, yaml_node_t *v, void *o)
{
	int rc = 0;
	double d;
	bool is_int;
	const char *s = scalar(L, v, &rc);
	if (!s)
		return rc;
	if (!parse_decimal(s, &d, &is_int) || !is_int || d < 1 || d > INT_MAX ||
	    s[0] == '+')
		return at(L, v->start_mark,
			  _("version must be a positive whole number (1, 2, ...), got \"%s\""),
			  s);
	((form *)o)->version = (int)d;
	return 0;
}

static int f_title(loader *L, yaml_node_t *v, void *o)
{
	return get_text2(L, v, &((form *)o)->title, "title");
}

static int cat_code(loader *L, yaml_node_t *v, void *o)
{
	form *f = o;
	int rc = get_str(L, v, &f->cat_code);
	if (rc == 0 && !word_ok(f->cat_code, WORD_VALUE))
		rc = at(L, v->start_mark,
			_("category code \"%s\" must be letters, digits, _ . or - (e.g. \"07006\")"),
			f->cat_code);
	return rc;
}

static int cat_zh(loader *L, yaml_node_t *v, void *o) { return get_str(L, v, &((form *)o)->cat.zh); }
static int cat_en(loader *L, yaml_node_t *v, void *o) { return get_str(L, v, &((form *)o)->cat.en); }

static const field CATEGORY_FIELDS[] = {
	{ "code", ALL_TYPES, cat_code, false },
	{ "zh", ALL_TYPES, cat_zh, true },
	{ "en", ALL_TYPES, cat_en, true },
};

static int f_category(loader *L, yaml_node_t *v, void *o)
{
	return PARSE_MAP(L, v, CATEGORY_FIELDS, ALL_TYPES, o, "category");
}

static int f_items(loader *L, yaml_node_t *v, void *o)
{
	form *f = o;
	int rc = need_seq(L, v, "items");
	if (rc)
		return rc;
	L->items = v;
	f->items = calloc(seq_len(v), sizeof *f->items);
	if (!f->items)
		return nomem();
	for (size_t i = 0; i < seq_len(v) && rc == 0; i++) {
		L->idx = i;
		f->n_items = i + 1;
		rc = parse_item(L, seq_at(L, v, i));
	}
	return rc;
}

static const field FORM_FIELDS[] = {
	{ "id", ALL_TYPES, f_id, true },
	{ "version", ALL_TYPES, f_version, true },
	{ "title", ALL_TYPES, f_title, true },
	{ "category", ALL_TYPES, f_category, true },
	{ "items", ALL_TYPES, f_items, true },
};

/* libyaml's own error, at its position, with a hint for tabs. */
static int syntax_error(loader *L, const yaml_parser_t *p)
{
	yaml_mark_t m = p->problem_mark;
	if (p->error == YAML_MEMORY_ERROR)
		return nomem();
	if (p->error == YAML_READER_ERROR)
		m = mark_at(L->text, p->problem_offset < L->len ? p->problem_offset
								: L->len);
	size_t off = offset_of(L->text, L->len, m);
	if (off < L->len && L->text[off] == '\t')
		return at(L, m, _("tab character: YAML does not allow tabs for indentation; use spaces"));
	const char *prob = p->problem ? p->problem : "?";
	if (p->context)
		return at(L, m, _("YAML syntax error: %s (%s at line %zu)"), prob,
			  p->context, p->context_mark.line + 1);
	return at(L, m, _("YAML syntax error: %s"), prob);
}

/* The stream must hold exactly one document. */
static int only_one_document(loader *L, yaml_parser_t *p)
{
	yaml_document_t next;
	int rc = 0;
	if (!yaml_parser_load(p, &next))
		return syntax_error(L, p);
	yaml_node_t *root = yaml_document_get_root_node(&next);
	if (root)
		rc = at(L, root->start_mark,
			_("a form file holds one YAML document; remove the second one (after \"---\")"));
	yaml_document_delete(&next);
	return rc;
}

static int load_yaml(loader *L)
{
	yaml_parser_t p;
	int rc;
	if (!yaml_parser_initialize(&p))
		return nomem();
	yaml_parser_set_input_string(&p, (const unsigned char *)L->text, L->len);
	if (!yaml_parser_load(&p, &L->doc)) {
		rc = syntax_error(L, &p);
		yaml_parser_delete(&p);
		return rc;
	}
	yaml_node_t *root = yaml_document_get_root_node(&L->doc);
	if (!root)
		rc = at(L, p.mark, _("the form file is empty"));
	else
		rc = PARSE_MAP(L, root, FORM_FIELDS, ALL_TYPES, L->f, _("the form"));
	if (rc == 0)
		rc = only_one_document(L, &p);
	yaml_document_delete(&L->doc);
	yaml_parser_delete(&p);
	return rc;
}

int form_load_buffer(form **out, const char *text, size_t len, const char *name)
{
	loader L = { .name = name ? name : "<form>", .len = len };
	size_t bad;
	*out = NULL;
	if (!text)
		text = "", len = 0;
	bad = utf8_check(text, len);
	L.len = len;
	if (len > MAX_FORM_BYTES)
		return error_set(ERR_FORM, _("%s: form file too large (over %d bytes)"),
				 L.name, MAX_FORM_BYTES);
	if (bad < len)
		return at(&L, mark_at(text, bad),
			  _("not valid UTF-8 text (byte 0x%02x); save the form as UTF-8"),
			  (unsigned char)text[bad]);
	L.f = calloc(1, sizeof *L.f);
	if (!L.f || !(L.f->text = malloc(len + 1))) {
		free(L.f);
		return nomem();
	}
	memcpy(L.f->text, text, len);
	L.f->text[len] = '\0';
	L.f->len = len;
	L.text = L.f->text;
	int rc = load_yaml(&L);
	if (rc) {
		form_free(L.f);
		return rc;
	}
	*out = L.f;
	return 0;
}

int form_load_file(form **out, const char *path)
{
	char *buf;
	size_t len;
	*out = NULL;
	int rc = util_read_file(path, &buf, &len);
	if (rc)
		return rc;
	rc = form_load_buffer(out, buf, len, path);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------ accessors */

const char *form_id(const form *f) { return f->id; }
int form_version(const form *f) { return f->version; }
const char *form_title(const form *f, const char *lng) { return pick(&f->title, lng); }
const char *form_category_code(const form *f) { return f->cat_code ? f->cat_code : ""; }
const char *form_category_label(const form *f, const char *lng) { return pick(&f->cat, lng); }

const char *form_text(const form *f, size_t *len)
{
	if (len)
		*len = f->len;
	return f->text;
}

size_t form_item_count(const form *f) { return f->n_items; }

const form_item *form_item_at(const form *f, size_t i)
{
	return i < f->n_items ? &f->items[i] : NULL;
}

const form_item *form_item_find(const form *f, const char *id)
{
	for (size_t i = 0; id && i < f->n_items; i++)
		if (strcmp(f->items[i].id, id) == 0)
			return &f->items[i];
	return NULL;
}

const char *form_item_id(const form_item *it) { return it->id; }
form_item_type form_item_get_type(const form_item *it) { return it->type; }
const char *form_item_label(const form_item *it, const char *lng) { return pick(&it->label, lng); }
bool form_item_required(const form_item *it) { return it->required; }
bool form_item_personal(const form_item *it) { return it->personal; }
bool form_item_allows_na(const form_item *it) { return it->type == FORM_PASSFAIL && it->na; }
const char *form_item_unit(const form_item *it) { return it->unit ? it->unit : ""; }

bool form_item_range(const form_item *it, double *min, double *max)
{
	if (min)
		*min = it->has_min ? it->min : -HUGE_VAL;
	if (max)
		*max = it->has_max ? it->max : HUGE_VAL;
	return it->has_min || it->has_max;
}

size_t form_item_choice_count(const form_item *it) { return it->n_choices; }

const char *form_item_choice_value(const form_item *it, size_t i)
{
	return i < it->n_choices ? it->choices[i].value : NULL;
}

const char *form_item_choice_label(const form_item *it, size_t i, const char *lng)
{
	return i < it->n_choices ? pick(&it->choices[i].label, lng) : NULL;
}

int form_item_min_photos(const form_item *it) { return it->photos_min; }
bool form_item_fail_needs_photo(const form_item *it) { return it->fail_photo; }

const char *form_item_legal_basis(const form_item *it, const char *lng)
{
	return pick(&it->basis, lng);
}

int form_item_fail_days(const form_item *it) { return it->days; }

/* -------------------------------------------------------------- answers */

static const json_t *answer_of(const form_item *it, const json_t *answers)
{
	const json_t *v = json_object_get(answers, it->id);
	return json_is_null(v) ? NULL : v;
}

static bool cond_holds(const form *f, const cond_t *c, const json_t *answers)
{
	if (!c->set)
		return true;
	const form_item *t = &f->items[c->item];
	const json_t *v = answer_of(t, answers);
	size_t i;
	json_t *e;
	if (!v || !form_item_visible(f, t, answers))
		return false;
	if (json_is_string(v))
		return in_list(c->in, c->n_in, json_string_value(v));
	json_array_foreach(v, i, e)
		if (json_is_string(e) && in_list(c->in, c->n_in, json_string_value(e)))
			return true;
	return false;
}

bool form_item_visible(const form *f, const form_item *it, const json_t *answers)
{
	return cond_holds(f, &it->when, answers);
}

bool form_item_failed(const form *f, const form_item *it, const json_t *answers)
{
	char why[8];
	const json_t *v = answer_of(it, answers);
	if (!v || OPS[it->type].bad(it, v, why, sizeof why) ||
	    !form_item_visible(f, it, answers))
		return false;
	return OPS[it->type].failed(f, it, v, answers);
}

json_t *form_failures(const form *f, const json_t *answers)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < f->n_items; i++)
		if (form_item_failed(f, &f->items[i], answers) &&
		    json_array_append_new(arr, json_string(f->items[i].id))) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

int form_answer_parse(const form *f, const char *item_id, const char *text,
		      json_t **out)
{
	const form_item *it = form_item_find(f, item_id);
	char why[1536];
	json_t *v = NULL;
	*out = NULL;
	if (!it)
		return error_set(ERR_INVALID, _("%s is not an item of form %s"),
				 item_id ? item_id : "(null)", f->id);
	if (!text || blank(text))
		return error_set(ERR_INVALID, _("%s (%s): the answer is empty"), it->id,
				 form_item_label(it, NULL));
	if (utf8_check(text, strlen(text)) < strlen(text))
		return error_set(ERR_INVALID, _("%s (%s): the answer is not valid UTF-8 text"),
				 it->id, form_item_label(it, NULL));
	char *t = trim_dup(text);
	int rc = t ? OPS[it->type].parse(it, t, &v) : nomem();
	free(t);
	if (rc)
		return rc;
	if (json_is_array(v) && json_array_size(v) == 0) {
		json_decref(v);
		return error_set(ERR_INVALID, _("%s (%s): the answer is empty"), it->id,
				 form_item_label(it, NULL));
	}
	if (OPS[it->type].bad(it, v, why, sizeof why)) {
		json_decref(v);
		return error_set(ERR_INVALID, "%s (%s) %s", it->id,
				 form_item_label(it, NULL), why);
	}
	*out = v;
	return 0;
}

/* Problems list: lines appended to a fixed buffer (error messages are
 * bounded anyway). */
typedef struct {
	char buf[4096];
	size_t len;
	int count;
} problems;

static void add_problem(problems *P, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_problem(problems *P, const char *fmt, ...)
{
	va_list ap;
	if (P->len + 1 >= sizeof P->buf)
		return;
	if (P->count++)
		P->buf[P->len++] = '\n';
	va_start(ap, fmt);
	int n = vsnprintf(P->buf + P->len, sizeof P->buf - P->len, fmt, ap);
	va_end(ap);
	P->len += n > 0 ? (size_t)n : 0;
	if (P->len >= sizeof P->buf)
		P->len = sizeof P->buf - 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void check_unknown(const form *f, const json_t *answers, problems *P)
{
	size_t n = json_object_size(answers), k = 0;
	const char **keys = calloc(n ? n : 1, sizeof *keys);
	const char *key;
	json_t *v;
	if (!keys) {
		add_problem(P, "%s", _("out of memory"));
		return;
	}
	json_object_foreach((json_t *)answers, key, v)
		if (!form_item_find(f, key))
			keys[k++] = key;
	qsort(keys, k, sizeof *keys, cmp_str);
	for (size_t i = 0; i < k; i++)
		add_problem(P, _("%s is not an item of form %s"), keys[i], f->id);
	free(keys);
}

/* "SB01 is one of: approved, filed" for the hidden-item message. */
static void cond_text(const form *f, const cond_t *c, char *buf, size_t n)
{
	size_t used = (size_t)snprintf(buf, n, _("%s is one of:"), f->items[c->item].id);
	for (size_t i = 0; i < c->n_in && used < n; i++)
		used += (size_t)snprintf(buf + used, n - used, "%s %s",
					 i ? "," : "", c->in[i]);
}

static bool answered(const json_t *v)
{
	return v && !(json_is_array(v) && json_array_size(v) == 0);
}

static void check_item(const form *f, const form_item *it, const json_t *answers,
		       bool complete, problems *P)
{
	const json_t *v = answer_of(it, answers);
	const char *lbl = form_item_label(it, NULL);
	char why[1536];
	if (!form_item_visible(f, it, answers)) {
		if (v) {
			cond_text(f, &it->when, why, sizeof why);
			add_problem(P, _("%s (%s) is answered but does not apply: it is shown only when %s"),
				    it->id, lbl, why);
		}
		return;
	}
	if (v && OPS[it->type].bad(it, v, why, sizeof why))
		add_problem(P, "%s (%s) %s", it->id, lbl, why);
	else if (complete && it->required && !answered(v))
		add_problem(P, _("%s (%s) is required but not answered"), it->id, lbl);
	else if (complete && it->required && it->type == FORM_PHOTOS &&
		 json_integer_value(v) < (it->photos_min > 1 ? it->photos_min : 1))
		add_problem(P, _("%s (%s) needs at least %d photo(s), has %d"), it->id,
			    lbl, it->photos_min > 1 ? it->photos_min : 1,
			    (int)json_integer_value(v));
}

int form_answers_validate(const form *f, const json_t *answers, bool complete)
{
	problems *P;
	if (!json_is_object(answers))
		return error_set(ERR_INVALID, _("the answers must be a JSON object"));
	P = calloc(1, sizeof *P);
	if (!P)
		return nomem();
	check_unknown(f, answers, P);
	for (size_t i = 0; i < f->n_items; i++)
		check_item(f, &f->items[i], answers, complete, P);
	int rc = P->count ? error_set(ERR_INVALID, "%s", P->buf) : 0;
	free(P);
	return rc;
}
