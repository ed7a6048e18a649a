package io.sluice.schemas;

import com.fasterxml.jackson.databind.JsonMappingException;

/** Bytes that are not a valid wire record; the message names the field (as a JSON path) and the problem. */
public final class WireFormatException extends RuntimeException {

    private WireFormatException(String message, Throwable cause) {
        super(message, cause);
    }

    WireFormatException(String message) {
        super(message);
    }

    static WireFormatException from(Class<?> type, Exception e) {
        String where = "";
        if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
            StringBuilder sb = new StringBuilder();
            for (JsonMappingException.Reference ref : m.getPath()) {
                if (ref.getFieldName() != null) {
                    if (sb.length() > 0) {
                        sb.append('.');
                    }
                    sb.append(ref.getFieldName());
                } else if (ref.getIndex() >= 0) {
                    sb.append('[').append(ref.getIndex()).append(']');
                }
            }
            where = sb + ": ";
        }
        String detail = e instanceof com.fasterxml.jackson.core.JsonProcessingException p ? p.getOriginalMessage() : e.getMessage();
        return new WireFormatException(where + "not a valid " + type.getSimpleName() + ": " + detail, e);
    }
}
