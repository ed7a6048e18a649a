package io.sluice.worker.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.schemas.Json;
import io.sluice.testprovider.Tokenizer;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/**
 * The prompt bound against the test provider's tokenizers: {@link Tokenizer#BYTES} is the worst a byte-level
 * tokenizer can do (one token per byte), {@link Tokenizer#WORDS} a plausible BPE.
 */
class PromptBoundTest {

    @Property(tries = 500)
    void shouldNeverBeBelowWhatAByteLevelTokenizerCounts(@ForAll("conversations") ObjectNode body) {
        long bound = PromptBound.of(body, PromptBound.Overheads.DEFAULTS);
        assertThat(bound).isGreaterThanOrEqualTo(Tokenizer.BYTES.promptTokens(body));
        assertThat(bound).isGreaterThanOrEqualTo(Tokenizer.WORDS.promptTokens(body));
        assertThat(bound).isGreaterThanOrEqualTo(Tokenizer.O200K.promptTokens(body));
    }

    @Test
    void shouldCountBytesNotCharacters() {
        // given: 4 characters, 16 bytes
        ObjectNode body = body(List.of("👋👋👋👋"));

        // then: request 64 + message 8 + role "user" 4 + 16
        assertThat(PromptBound.of(body, PromptBound.Overheads.DEFAULTS)).isEqualTo(64 + 8 + 4 + 16);
    }

    @Test
    void shouldAddToolsAsTheirJsonPlusTheirOverhead() {
        ObjectNode body = body(List.of("hi"));
        body.putArray("tools").addObject().put("type", "function").putObject("function").put("name", "f");
        long without = PromptBound.of(body(List.of("hi")), PromptBound.Overheads.DEFAULTS);
        assertThat(PromptBound.of(body, PromptBound.Overheads.DEFAULTS))
                .isEqualTo(without + body.get("tools").toString().length() + PromptBound.Overheads.DEFAULT_TOOLS);
    }

    @Test
    void shouldRefuseContentThatHasNoByteBound() {
        ObjectNode body = body(List.of("x"));
        ArrayNode parts = ((ObjectNode) body.get("messages").get(0)).putArray("content");
        parts.addObject().put("type", "input_audio");
        assertThatThrownBy(() -> PromptBound.of(body, PromptBound.Overheads.DEFAULTS))
                .isInstanceOf(PromptBound.UnboundedPromptException.class).hasMessageContaining("'input_audio'");
    }

    @Provide
    Arbitrary<ObjectNode> conversations() {
        Arbitrary<String> text = Arbitraries.strings().all().ofMaxLength(200);
        return text.list().ofMinSize(1).ofMaxSize(8).map(PromptBoundTest::body);
    }

    private static ObjectNode body(List<String> texts) {
        ObjectNode body = Json.mapper().createObjectNode().put("model", "m");
        ArrayNode messages = body.putArray("messages");
        for (int i = 0; i < texts.size(); i++) {
            ObjectNode m = messages.addObject().put("role", i % 2 == 0 ? "user" : "assistant");
            if (i % 3 == 2) {
                m.putArray("content").addObject().put("type", "text").put("text", texts.get(i));
            } else {
                m.put("content", texts.get(i));
            }
        }
        return body;
    }

    @Property(tries = 50)
    void shouldGrowWithEveryMessage(@ForAll @Size(min = 1, max = 5) List<String> texts) {
        assertThat(PromptBound.of(body(texts), PromptBound.Overheads.DEFAULTS))
                .isGreaterThanOrEqualTo(PromptBound.Overheads.DEFAULT_PER_REQUEST + texts.size() * PromptBound.Overheads.DEFAULT_PER_MESSAGE);
    }
}
