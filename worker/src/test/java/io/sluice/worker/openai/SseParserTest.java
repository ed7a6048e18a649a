package io.sluice.worker.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class SseParserTest {

    private static final String STREAM = ": keep-alive\n\n"
            + "data: {\"choices\":[{\"delta\":{\"content\":\"héllo 👋\"}}]}\r\n\r\n"
            + "event: message\nid: 7\ndata: first\ndata:second\n\n"
            + "data: [DONE]\r\r";

    @Test
    void shouldDispatchEachEventsDataAndIgnoreEverythingElse() {
        assertThat(parse(STREAM, STREAM.length() + 1)).containsExactly(
                "{\"choices\":[{\"delta\":{\"content\":\"héllo 👋\"}}]}", "first\nsecond", "[DONE]");
    }

    @Property(tries = 200)
    void shouldReadTheSameEventsHoweverTheBytesAreSplit(@ForAll @IntRange(min = 1, max = 40) int chunk) {
        assertThat(parse(STREAM, chunk)).isEqualTo(parse(STREAM, STREAM.length() + 1));
    }

    @Test
    void shouldDispatchAnEventTheStreamEndsWithoutABlankLine() {
        assertThat(parse("data: last", 100)).containsExactly("last");
    }

    @Test
    void shouldRefuseALineThatNeverEnds() {
        SseParser parser = new SseParser(d -> { });
        byte[] big = new byte[SseParser.MAX_LINE_BYTES + 1];
        Arrays.fill(big, (byte) 'a');
        assertThatThrownBy(() -> parser.feed(ByteBuffer.wrap(big))).isInstanceOf(SseParser.MalformedStreamException.class);
    }

    private static List<String> parse(String stream, int chunk) {
        List<String> out = new ArrayList<>();
        SseParser parser = new SseParser(out::add);
        byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i += chunk) {
            parser.feed(ByteBuffer.wrap(bytes, i, Math.min(chunk, bytes.length - i)));
        }
        parser.end();
        return out;
    }
}
