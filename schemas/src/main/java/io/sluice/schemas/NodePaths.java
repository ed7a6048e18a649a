package io.sluice.schemas;

/** Node paths: ids joined by {@code /} from the workflow, copies of a repeated leaf as {@code id[i]}. */
public final class NodePaths {

    private NodePaths() {
    }

    public static String child(String parentPath, String id) {
        return parentPath + "/" + id;
    }

    public static String copy(String id, int index, int copies) {
        return copies == 1 ? id : id + "[" + index + "]";
    }

    /** The parent's path, or null for the workflow's. */
    public static String parent(String path) {
        int i = path.lastIndexOf('/');
        return i < 0 ? null : path.substring(0, i);
    }
}
