package io.sluice.cli.bench;

import java.util.List;

/**
 * What a section measured: a record serialised as is into the JSON report, which also lists its headline figures for
 * the table ({@link BenchTable} does the formatting).
 */
interface SectionResult {

    /** The figures to print, in order. */
    List<Figure> figures();
}
