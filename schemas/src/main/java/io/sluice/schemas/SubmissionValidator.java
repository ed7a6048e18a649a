package io.sluice.schemas;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.ValidationMessage;

/**
 * Decides whether bytes from {@link Topics#SUBMISSIONS} (or the CLI) are a submission Sluice will run, and says
 * precisely why not.
 *
 * <p>In order, each step only when the one before passed:
 * <ol>
 *   <li>size: more than {@link ValidationLimits#maxPayloadBytes()} is refused before any parsing;</li>
 *   <li>syntax: the bytes must be one JSON value (no duplicate keys, no trailing data), else the error gives the
 *       line and column;</li>
 *   <li>shape and semantics, together: {@code submission.schema.json} (the language-neutral contract) and the
 *       rules it cannot express ({@link SubmissionRules}: unique sibling ids, budgets that only narrow, depth and
 *       leaf limits).</li>
 * </ol>
 * All errors of the last step are reported, not just the first, sorted in document order and without duplicates,
 * at most {@value #MAX_ERRORS} of them; each names the offending value by its path, e.g.
 * {@code workflow.nodes[2].budget.max_tokens: must be ≥ 0, got -5}.
 *
 * <p>{@link #validate} never throws: any input, however broken, yields a {@link ValidationResult}.
 *
 * <p>Thread-safe and cheap to share: the compiled schema is loaded once per JVM and only read.
 */
public final class SubmissionValidator {

    /** Errors beyond this many are summed up in one last line: a broken 1 MiB tree would otherwise yield thousands. */
    static final int MAX_ERRORS = 100;

    private static final Pattern SOURCE_LOCATION =
            Pattern.compile("\\[Source: [^\\]]*?line: (\\d+), column: (\\d+)\\]");
    private static final Pattern DUPLICATE_FIELD = Pattern.compile("^Duplicate field '(.*)' for `ObjectNode`.*", Pattern.DOTALL);
    private static final Pattern NESTING_DEPTH =
            Pattern.compile("^Document nesting depth \\((\\d+)\\) exceeds the maximum allowed \\((\\d+).*", Pattern.DOTALL);

    private final ValidationLimits limits;
    private final JsonSchema schema;

    public SubmissionValidator() {
        this(ValidationLimits.DEFAULTS);
    }

    public SubmissionValidator(ValidationLimits limits) {
        this.limits = Objects.requireNonNull(limits, "limits");
        this.schema = WireSchemas.schema(WireSchemas.SUBMISSION);
    }

    public ValidationLimits limits() {
        return limits;
    }

    /**
     * Validates a submission and, when it is valid, parses it.
     *
     * @param json the payload as UTF-8 JSON; null is treated as empty
     */
    public ValidationResult validate(byte[] json) {
        try {
            return check(json);
        } catch (RuntimeException e) {
            // Not reached by any input the tests know of; should a bug surface, the payload is refused rather
            // than the caller's consumer loop brought down.
            return ValidationResult.invalid(List.of(Problem.ROOT + ": could not be validated (internal error: "
                    + e.getClass().getSimpleName() + ")"));
        }
    }

    /**
     * Validates and parses a submission.
     *
     * @throws SubmissionRejectedException listing every problem found, when the payload is not a valid submission
     */
    public Submission parse(byte[] json) {
        return validate(json).orElseThrow();
    }

    private ValidationResult check(byte[] json) {
        if (json == null || json.length == 0) {
            return rejected(Problem.ROOT + ": is empty");
        }
        if (json.length > limits.maxPayloadBytes()) {
            return rejected(Problem.ROOT + ": " + json.length + " bytes exceeds the limit of " + limits.maxPayloadBytes());
        }
        JsonNode root;
        try {
            root = Json.mapper().readTree(json);
        } catch (JsonProcessingException e) {
            return rejected(Problem.ROOT + ": " + syntaxError(e));
        } catch (IOException e) {
            return rejected(Problem.ROOT + ": is not valid JSON: " + oneLine(e.getMessage()));
        }
        if (root == null || root.isMissingNode()) {
            return rejected(Problem.ROOT + ": is empty");
        }
        List<Problem> problems = new ArrayList<>();
        for (ValidationMessage message : schema.validate(root)) {
            problems.add(SchemaErrors.translate(message));
        }
        problems.addAll(SubmissionRules.check(root, limits));
        if (!problems.isEmpty()) {
            return ValidationResult.invalid(render(root, problems));
        }
        try {
            return ValidationResult.valid(Json.convert(root, Submission.class));
        } catch (WireFormatException e) {
            // The schema admits only what the records read; this is the net under that claim.
            return rejected(Problem.ROOT + ": " + oneLine(e.getMessage()));
        }
    }

    private static ValidationResult rejected(String error) {
        return ValidationResult.invalid(List.of(error));
    }

    /** Sorted in document order (stable, so ties keep schema-then-rules order), duplicates dropped, capped. */
    static List<String> render(JsonNode root, List<Problem> problems) {
        record Keyed(int[] key, String text) {
        }
        List<Keyed> keyed = new ArrayList<>(problems.size());
        for (Problem p : problems) {
            keyed.add(new Keyed(documentOrder(root, p.path()), p.render()));
        }
        keyed.sort(Comparator.comparing(Keyed::key, SubmissionValidator::compareKeys));
        Set<String> unique = new LinkedHashSet<>();
        for (Keyed k : keyed) {
            unique.add(k.text());
        }
        List<String> errors = new ArrayList<>(Math.min(unique.size(), MAX_ERRORS + 1));
        Iterator<String> it = unique.iterator();
        while (it.hasNext() && errors.size() < MAX_ERRORS) {
            errors.add(it.next());
        }
        if (unique.size() > MAX_ERRORS) {
            errors.add(Problem.ROOT + ": " + (unique.size() - MAX_ERRORS) + " more errors not shown");
        }
        return errors;
    }

    /**
     * Where a path points in the document: per element, the array index or the field's position among its
     * object's fields; -1 for a field that is absent (a missing required one), so it sorts before its siblings.
     */
    private static int[] documentOrder(JsonNode root, List<Object> path) {
        int[] key = new int[path.size()];
        JsonNode at = root;
        for (int i = 0; i < key.length; i++) {
            Object element = path.get(i);
            if (element instanceof Integer index) {
                key[i] = index;
                at = at != null && at.isArray() ? at.get(index) : null;
            } else {
                String name = element.toString();
                key[i] = -1;
                if (at != null && at.isObject()) {
                    int position = 0;
                    for (Iterator<String> names = at.fieldNames(); names.hasNext(); position++) {
                        if (names.next().equals(name)) {
                            key[i] = position;
                            break;
                        }
                    }
                }
                at = at != null && at.isObject() ? at.get(name) : null;
            }
        }
        return key;
    }

    private static int compareKeys(int[] a, int[] b) {
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            int c = Integer.compare(a[i], b[i]);
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.length, b.length);
    }

    /** "not valid JSON at line 3, column 7: …", in words rather than Jackson's class names. */
    private static String syntaxError(JsonProcessingException e) {
        String detail = oneLine(e.getOriginalMessage());
        Matcher duplicate = DUPLICATE_FIELD.matcher(detail);
        Matcher nesting = NESTING_DEPTH.matcher(detail);
        if (duplicate.matches()) {
            detail = "duplicate field '" + duplicate.group(1) + "'";
        } else if (detail.startsWith("Trailing token")) {
            detail = "more data after the JSON value";
        } else if (nesting.matches()) {
            detail = "nested deeper than " + nesting.group(2) + " levels";
        } else {
            detail = SOURCE_LOCATION.matcher(detail).replaceAll("line $1, column $2");
        }
        JsonLocation location = e.getLocation();
        String where = location == null || location.getLineNr() < 1
                ? ""
                : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
        return "not valid JSON" + where + ": " + detail;
    }

    private static String oneLine(String text) {
        return text == null ? "unknown problem" : text.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip();
    }
}
