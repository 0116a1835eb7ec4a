/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_xml.c: controller/xml.c, the bounded tree AWS Query answers are read
 * into: elements and their text as EC2 and CloudWatch send them, namespace
 * prefixes dropped, entities decoded, and every malformed or oversized
 * answer refused with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../common/err.h"
#include "../../controller/xml.h"

static const char EC2[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\n"
	"  <requestId>r-1</requestId>\n"
	"  <reservationSet>\n"
	"    <item><instancesSet>\n"
	"      <item><instanceId>i-0a</instanceId>\n"
	"        <instanceState><code>16</code><name>running</name></instanceState>\n"
	"        <tagSet><item><key>team</key><value>a &amp; b</value></item></tagSet>\n"
	"      </item>\n"
	"      <item><instanceId>i-0b</instanceId></item>\n"
	"    </instancesSet></item>\n"
	"  </reservationSet>\n"
	"</DescribeInstancesResponse>\n";

static struct xml_node *
parse(const char *s, struct errbuf *eb)
{
	return xml_parse(s, strlen(s), eb);
}

static void
t_reads_an_ec2_answer(void **state)
{
	struct errbuf eb;
	struct xml_node *doc = parse(EC2, &eb);
	const struct xml_node *set, *in, *tag;
	char text[64];

	(void)state;
	assert_non_null(doc);
	assert_string_equal(doc->name, "DescribeInstancesResponse");
	set = xml_child(xml_child(xml_child(doc, "reservationSet"), "item"), "instancesSet");
	assert_non_null(set);
	in = xml_child(set, "item");
	xml_text(xml_child(in, "instanceId"), text, sizeof(text));
	assert_string_equal(text, "i-0a");
	xml_text(xml_child(xml_child(in, "instanceState"), "name"), text, sizeof(text));
	assert_string_equal(text, "running");
	tag = xml_child(xml_child(in, "tagSet"), "item");
	xml_text(xml_child(tag, "value"), text, sizeof(text));
	assert_string_equal(text, "a & b");
	assert_non_null(in->next);
	xml_text(xml_child(in->next, "instanceId"), text, sizeof(text));
	assert_string_equal(text, "i-0b");
	assert_null(in->next->next);
	/* Depth first, the first match: the first instance's id. */
	xml_text(xml_find(doc, "instanceId"), text, sizeof(text));
	assert_string_equal(text, "i-0a");
	xml_free(doc);
}

static void
t_missing_elements_read_as_empty(void **state)
{
	struct xml_node *doc = parse(EC2, NULL);
	char text[8] = "x";

	(void)state;
	assert_null(xml_child(doc, "nothing"));
	assert_null(xml_child(NULL, "item"));
	assert_null(xml_find(NULL, "item"));
	xml_text(xml_child(doc, "nothing"), text, sizeof(text));
	assert_string_equal(text, "");
	xml_free(doc);
	xml_free(NULL);
}

static void
t_prefixes_dropped_and_text_cut_to_fit(void **state)
{
	struct xml_node *doc = parse("<s:Envelope xmlns:s=\"urn:x\"><s:Code>"
	    "ThrottlingException</s:Code><!-- c --><s:Message>a<![CDATA[<b>]]>c"
	    "</s:Message></s:Envelope>", NULL);
	char text[9];

	(void)state;
	assert_non_null(doc);
	assert_string_equal(doc->name, "Envelope");
	xml_text(xml_find(doc, "Code"), text, sizeof(text));
	assert_string_equal(text, "Throttli");
	xml_text(xml_find(doc, "Message"), text, sizeof(text));
	assert_string_equal(text, "a<b>c");
	xml_free(doc);
}

static void
t_malformed_answers_refused_with_a_reason(void **state)
{
	static const char *bad[] = {
		"", "not xml", "<a><b></a>", "<a>", "<a/><b/>", "<a>&undefined;</a>",
		"<a>\xff</a>",
	};
	struct errbuf eb;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		eb.msg[0] = '\0';
		assert_null(parse(bad[i], &eb));
		assert_non_null(strstr(eb.msg, "malformed XML answer"));
	}
}

/* depth levels of <a>...</a> into buf (at least 7 * depth + 1 bytes). */
static size_t
nest(char *buf, int depth)
{
	size_t used = 0;
	int d;

	for (d = 0; d < depth; d++, used += 3)
		memcpy(buf + used, "<a>", 3);
	for (d = 0; d < depth; d++, used += 4)
		memcpy(buf + used, "</a>", 4);
	buf[used] = '\0';
	return used;
}

static void
t_depth_and_entity_expansion_bounded(void **state)
{
	char deep[7 * (XML_DEPTH_MAX + 1) + 1];
	struct xml_node *doc;
	struct errbuf eb;
	size_t i;

	(void)state;
	doc = xml_parse(deep, nest(deep, XML_DEPTH_MAX), &eb);
	assert_non_null(doc);
	xml_free(doc);
	assert_null(xml_parse(deep, nest(deep, XML_DEPTH_MAX + 1), &eb));
	assert_non_null(strstr(eb.msg, "nested too deeply"));
	{
		/* The "billion laughs": no document type declaration is parsed. */
		char lol[2048];
		size_t n = 0;

		n += (size_t)snprintf(lol + n, sizeof(lol) - n,
		    "<!DOCTYPE l [<!ENTITY l0 \"lol\">");
		for (i = 1; i < 10; i++)
			n += (size_t)snprintf(lol + n, sizeof(lol) - n,
			    "<!ENTITY l%zu \"&l%zu;&l%zu;&l%zu;&l%zu;&l%zu;&l%zu;&l%zu;&l%zu;"
			    "&l%zu;&l%zu;\">", i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
			    i - 1, i - 1, i - 1);
		(void)snprintf(lol + n, sizeof(lol) - n, "]><a>&l9;</a>");
		assert_null(parse(lol, &eb));
		assert_non_null(strstr(eb.msg, "document type declaration"));
	}
	/* An external entity, and a declaration that declares nothing. */
	assert_null(parse("<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>",
	    &eb));
	assert_non_null(strstr(eb.msg, "document type declaration"));
	assert_null(parse("<!DOCTYPE a><a/>", &eb));
}

/* Text in many pieces (one per character reference) is kept whole. */
static void
t_text_in_many_pieces(void **state)
{
	enum { N = 100000 };
	static char buf[3 + 5 * N + 4 + 1];
	struct xml_node *doc;
	struct errbuf eb;
	size_t i, n = 0;

	(void)state;
	memcpy(buf + n, "<a>", 3);
	n += 3;
	for (i = 0; i < N; i++, n += 5)
		memcpy(buf + n, "&amp;", 5);
	memcpy(buf + n, "</a>", 5);
	n += 4;
	doc = xml_parse(buf, n, &eb);
	assert_non_null(doc);
	assert_int_equal(doc->textlen, N);
	assert_int_equal(strspn(doc->text, "&"), N);
	xml_free(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_reads_an_ec2_answer),
		cmocka_unit_test(t_text_in_many_pieces),
		cmocka_unit_test(t_missing_elements_read_as_empty),
		cmocka_unit_test(t_prefixes_dropped_and_text_cut_to_fit),
		cmocka_unit_test(t_malformed_answers_refused_with_a_reason),
		cmocka_unit_test(t_depth_and_entity_expansion_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
