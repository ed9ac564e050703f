/*
 * form: checklist definitions (YAML, read with libyaml) and validation of
 * answers against them.  Format: share/man/fieldbook-forms.5.
 *
 * A form is immutable once loaded.  Answers are a JSON object keyed by item
 * id; value types by item type:
 *   passfail  "pass" | "fail" | "na"      number  JSON number
 *   choice    "value"                     multi   ["value", ...]
 *   text      "string"                    photos  integer count
 */
#ifndef FB_FORM_H
#define FB_FORM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct form form;
typedef struct form_item form_item;

typedef enum {
	FORM_PASSFAIL,
	FORM_NUMBER,
	FORM_CHOICE,
	FORM_MULTI,
	FORM_TEXT,
	FORM_PHOTOS,
} form_item_type;

/* Load and validate.  On error returns ERR_FORM (or ERR_IO/ERR_NOTFOUND)
 * with a message "FILE:LINE:COL: what is wrong". */
int form_load_file(form **out, const char *path);
/* name is used in messages in place of a file name. */
int form_load_buffer(form **out, const char *text, size_t len, const char *name);
void form_free(form *f);

const char *form_id(const form *f);
int form_version(const form *f);
/* lang: "zh" or "en"; falls back to the other language when one is missing. */
const char *form_title(const form *f, const char *lang);
const char *form_category_code(const form *f);           /* may be "" */
const char *form_category_label(const form *f, const char *lang);
/* The exact bytes the form was loaded from (borrowed). */
const char *form_text(const form *f, size_t *len);

size_t form_item_count(const form *f);
const form_item *form_item_at(const form *f, size_t i);
const form_item *form_item_find(const form *f, const char *id);

const char *form_item_id(const form_item *it);
form_item_type form_item_get_type(const form_item *it);
const char *form_item_type_name(form_item_type t);       /* "passfail", ... */
const char *form_item_label(const form_item *it, const char *lang);
bool form_item_required(const form_item *it);
bool form_item_personal(const form_item *it);
bool form_item_allows_na(const form_item *it);
const char *form_item_unit(const form_item *it);         /* "" when none */
bool form_item_range(const form_item *it, double *min, double *max);
size_t form_item_choice_count(const form_item *it);
const char *form_item_choice_value(const form_item *it, size_t i);
const char *form_item_choice_label(const form_item *it, size_t i, const char *lang);
/* For photos items: the minimum count (0 when none). */
int form_item_min_photos(const form_item *it);
/* on fail: photo required, legal basis (may be ""), default days (-1: none). */
bool form_item_fail_needs_photo(const form_item *it);
const char *form_item_legal_basis(const form_item *it, const char *lang);
int form_item_fail_days(const form_item *it);

/* Is the item shown, given the answers so far (its `when` condition)? */
bool form_item_visible(const form *f, const form_item *it, const json_t *answers);
/* Does the item's answer in `answers` count as a failure? */
bool form_item_failed(const form *f, const form_item *it, const json_t *answers);

/* Parse a user's text for an item (CLI --set SB09=2.1, TUI input) into a
 * JSON value of the right type (*out is a new reference).  ERR_INVALID with
 * a message a person understands ("SB09 (Ground clearance) must be a number
 * between 0 and 20 m, got \"abc\""). */
int form_answer_parse(const form *f, const char *item_id, const char *text,
		      json_t **out);
/* Check every answer: known item, right type and range, visible.  When
 * complete is true, every required visible item must be answered.
 * ERR_INVALID with all problems in the message, one per line. */
int form_answers_validate(const form *f, const json_t *answers, bool complete);
/* New array of the ids of failed, visible items, in form order. */
json_t *form_failures(const form *f, const json_t *answers);

#endif
