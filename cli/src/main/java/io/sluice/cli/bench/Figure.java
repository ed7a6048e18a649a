package io.sluice.cli.bench;

/**
 * One printed figure of a section: what it is, its value, its unit and how it was obtained. Only the table uses it;
 * the JSON report holds the section's result record itself.
 *
 * @param value a number, or text such as "refused: …"; null prints as "n/a"
 */
record Figure(String label, Object value, String unit, String note) {

    static Figure of(String label, Object value, String unit) {
        return new Figure(label, value, unit, null);
    }

    static Figure of(String label, Object value, String unit, String note) {
        return new Figure(label, value, unit, note);
    }
}
