package dev.collab.fuzz;

import dev.collab.protocol.yjs.AwarenessCodec;
import dev.collab.protocol.yjs.AwarenessEntry;
import dev.collab.protocol.hocuspocus.HocuspocusCodec;
import dev.collab.protocol.ywebsocket.YWebsocketCodec;
import dev.collab.testing.YTestUpdates;
import dev.collab.yjs.Lib0Reader;
import dev.collab.yjs.Lib0Writer;
import dev.collab.yjs.YUpdates;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Valid messages of every format the server decodes: the starting points of the mutation fuzzer. */
final class Seeds {
    private Seeds() {
    }

    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }

    /**
     * Updates written by yjs 13.6 itself ({@code Y.encodeStateAsUpdate}): formatted text with an embed and a
     * deletion; a map holding every lib0 any type, a binary, a nested map and a subdocument; an array and XML
     * elements with attributes; an incremental update of a second client with origins on both sides, the full
     * two-client state; a delete-only update.
     */
    static final List<String> YJS_UPDATES = List.of(
            "010b0b00040104746578740368656c840b02026c6f810b0403840b070c726c6420e29c9320f09d849e460b0004626f6c64047472"
                    + "7565c60b040b0504626f6c64046e756c6cc60b020b03057769647468023130c60b120b0304626f6c64046e756c6cc50b13"
                    + "0b03117b22696d616765223a22782e706e67227dc60b140b03057769647468046e756c6cc60b150b0304626f6c64047472"
                    + "7565010b010503",
            "010ee0a712002801036d6170016e017d2a2801036d6170036e6567017d472801036d61700166017c405000002801036d617003"
                    + "626967017a10000000000000002801036d617001730177037374722101036d61700174012801036d6170036e756c017e28"
                    + "01036d61700175017f2801036d6170036172720175037d0177016175027d02760101787d012801036d6170036f626a0176"
                    + "01016b7601046465657075037d017d027d032301036d61700362696e04010203ff2701036d617003737562012800e0a712"
                    + "0b05696e6e6572017701762901036d617003646f63087375622d67756964760001e0a712010501",
            "010b80808080080001010561727261790188808080800800037d027d037704666f7572c780808080080080808080080100070103"
                    + "786d6c0301700700808080800805060600808080800806066974616c696304747275658480808080080704706172618680"
                    + "808080080b066974616c6963046e756c6c280080808080080502696401770270318780808080080506040080808080080e"
                    + "047461696c018080808008010001",
            "01010600c4050005010258590105010101",
            "02010600c4050005010258590305000401047465787401618105000184050101630105010101",
            "00020601000105010002");

    /** y-protocols awareness update of yjs' Awareness for client 11 with a user and a cursor. */
    static final String YJS_AWARENESS = "010b01457b2275736572223a7b226e616d65223a22616e6e222c22636f6c6f72223a22236630"
            + "30227d2c22637572736f72223a7b22616e63686f72223a312c2268656164223a337d7d";

    static List<byte[]> updates() {
        List<byte[]> out = new ArrayList<>();
        YJS_UPDATES.forEach(h -> out.add(hex(h)));
        out.add(YUpdates.EMPTY_UPDATE.clone());
        out.add(YTestUpdates.insertText(7, "t", "hi"));
        out.add(YTestUpdates.insertText(1L << 40, "text", "√ ünïcödé 𝄞"));
        out.add(YTestUpdates.appendAfter(8, 0, 7, 1, "!"));
        out.add(YTestUpdates.appendAfter(7, 2, 7, 1, "more"));
        // updates the server itself produces: merges and diffs of the above
        List<byte[]> base = List.copyOf(out);
        out.add(YUpdates.merge(List.of(base.get(3), base.get(4), base.get(5))));
        out.add(YUpdates.merge(List.of(base.get(7), base.get(9), base.get(10))));
        out.add(YUpdates.diff(base.get(4), YUpdates.stateVector(base.get(3))));
        return out;
    }

    static List<byte[]> stateVectors() {
        List<byte[]> out = new ArrayList<>();
        out.add(hex("0206020503"));
        out.add(hex("01e0a7120e"));
        out.add(new byte[] {0});
        for (byte[] u : updates()) {
            out.add(YUpdates.stateVector(u));
        }
        Map<Long, Long> big = new LinkedHashMap<>();
        big.put((1L << 53) - 1, (1L << 53) - 1);
        big.put(0L, 1L);
        big.put(1L << 32, 5L);
        out.add(YUpdates.encodeStateVector(big));
        return out;
    }

    static List<byte[]> awareness() {
        List<byte[]> out = new ArrayList<>();
        out.add(hex(YJS_AWARENESS));
        out.add(AwarenessCodec.encode(List.of()));
        out.add(AwarenessCodec.encode(new AwarenessEntry(1, 0, "null")));
        out.add(AwarenessCodec.encode(new AwarenessEntry(3_000_000_000L, 17, "{\"user\":{\"name\":\"Zoë 𝄞\"}}"),
                new AwarenessEntry(4, 1, "{}"), new AwarenessEntry(5, 2, "[1,2,{\"a\":null}]")));
        out.add(AwarenessCodec.encode(new AwarenessEntry((1L << 53) - 1, (1L << 53) - 1, "\"s\"")));
        out.add(AwarenessCodec.encode(new AwarenessEntry(9, 9, "{\"deep\":" + "[".repeat(40) + "]".repeat(40) + "}")));
        return out;
    }

    static List<byte[]> yWebsocketFrames() {
        List<byte[]> out = new ArrayList<>();
        List<byte[]> updates = updates();
        for (byte[] sv : stateVectors().subList(0, 4)) {
            out.add(YWebsocketCodec.syncStep1(sv));
        }
        out.add(YWebsocketCodec.syncStep2(updates.get(0)));
        out.add(YWebsocketCodec.syncStep2(YUpdates.EMPTY_UPDATE));
        out.add(YWebsocketCodec.update(updates.get(1)));
        out.add(YWebsocketCodec.update(updates.get(7)));
        for (byte[] a : awareness().subList(0, 4)) {
            out.add(YWebsocketCodec.awareness(a));
        }
        out.add(YWebsocketCodec.keepAlive());
        out.add(YWebsocketCodec.queryAwareness());
        out.add(YWebsocketCodec.permissionDenied("no"));
        return out;
    }

    /** What a Hocuspocus provider sends: Auth token frame (hand-built: the codec only encodes server frames). */
    static byte[] hocuspocusAuth(String name, String token) {
        return new Lib0Writer().writeVarString(name).writeVarUint(HocuspocusCodec.AUTH)
                .writeVarUint(HocuspocusCodec.AUTH_TOKEN).writeVarString(token).writeVarString("4.8.0").toByteArray();
    }

    static byte[] hocuspocusClientClose(String name) {
        return new Lib0Writer().writeVarString(name).writeVarUint(HocuspocusCodec.CLOSE).toByteArray();
    }

    static List<byte[]> hocuspocusClientFrames() {
        List<byte[]> out = new ArrayList<>();
        List<byte[]> updates = updates();
        String jwt = "eyJhbGciOiJIUzI1NiJ9.eyJkb2MiOiJkb2MtMSIsInNjb3BlIjoicmVhZC13cml0ZSIsImV4cCI6MTl9.c2lnbmF0dXJl";
        for (String name : List.of("doc-1", "", "ünï/𝄞", "doc-1\0session-42")) {
            out.add(hocuspocusAuth(name, jwt));
            out.add(HocuspocusCodec.syncStep1(name, stateVectors().get(0)));
            out.add(HocuspocusCodec.syncStep2(name, updates.get(2)));
            out.add(HocuspocusCodec.update(name, updates.get(4)));
            out.add(HocuspocusCodec.awareness(name, awareness().get(0)));
            out.add(HocuspocusCodec.queryAwareness(name));
            out.add(HocuspocusCodec.stateless(name, "{\"hello\":\"world\"}"));
            out.add(hocuspocusClientClose(name));
        }
        out.add(hocuspocusAuth("doc-2", ""));
        out.add(new byte[] {(byte) HocuspocusCodec.PONG});
        return out;
    }

    static List<byte[]> hocuspocusServerFrames() {
        List<byte[]> out = new ArrayList<>();
        out.add(HocuspocusCodec.authenticated("doc-1", HocuspocusCodec.Scope.READ_WRITE));
        out.add(HocuspocusCodec.authenticated("doc-1", HocuspocusCodec.Scope.READONLY));
        out.add(HocuspocusCodec.permissionDenied("doc-1", "the access token has expired"));
        out.add(HocuspocusCodec.tokenRequest("doc-1"));
        out.add(HocuspocusCodec.syncStatus("doc-1", true));
        out.add(HocuspocusCodec.syncStatus("doc-1", false));
        out.add(HocuspocusCodec.close("doc-1", "bye"));
        out.add(HocuspocusCodec.ping());
        out.add(HocuspocusCodec.syncStep2("doc-1", updates().get(0)));
        out.add(HocuspocusCodec.stateless("doc-1", "payload"));
        return out;
    }

    /** lib0 encodings: any values of every type, nested, and plain integer/string/array sequences. */
    static List<byte[]> lib0() {
        List<byte[]> out = new ArrayList<>();
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("n", 42L);
        map.put("neg", -7L);
        map.put("f", 3.25);
        map.put("f32", 1.5f);
        map.put("big", new Lib0Reader.BigIntValue(1L << 60));
        map.put("s", "str ünï 𝄞");
        map.put("t", true);
        map.put("f0", false);
        map.put("nul", null);
        map.put("u", Lib0Reader.UNDEFINED);
        map.put("bin", new byte[] {1, 2, 3, (byte) 255});
        map.put("arr", List.of(1L, "a", List.of(2L, Map.of("x", 1L))));
        out.add(new Lib0Writer().writeAny(map).toByteArray());
        out.add(new Lib0Writer().writeAny(List.of(map, map)).toByteArray());
        Object nested = "leaf";
        for (int i = 0; i < 60; i++) {
            nested = List.of(nested);
        }
        out.add(new Lib0Writer().writeAny(nested).toByteArray());
        Lib0Writer ints = new Lib0Writer();
        for (long v : Mutator.BOUNDARY_VALUES) {
            if (v <= (1L << 53) - 1) {
                ints.writeVarUint(v).writeVarInt(v).writeVarInt(-v);
            }
        }
        out.add(ints.toByteArray());
        out.add(new Lib0Writer().writeVarString("hello").writeVarString("").writeVarString("𝄞é")
                .writeVarUint8Array("bytes".getBytes(StandardCharsets.UTF_8)).writeFloat32(1.5f).writeFloat64(-0.0)
                .writeInt64(Long.MIN_VALUE).toByteArray());
        out.add(new byte[0]);
        out.addAll(updates().subList(0, 3));
        return out;
    }

    static List<String> jsonMessages() {
        return List.of(
                "{\"type\":\"sync\",\"documentId\":\"doc-1\",\"version\":0}",
                "{\"type\":\"sync\",\"version\":12,\"stateVector\":\"AgYCBQM=\"}",
                "{\"type\":\"sync\"}",
                "{\"type\":\"steps\",\"version\":3,\"steps\":[{\"stepType\":\"replace\",\"from\":1,\"to\":1,"
                        + "\"slice\":{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}}]}",
                "{\"type\":\"steps\",\"version\":0,\"steps\":[{\"stepType\":\"addMark\",\"from\":1,\"to\":3,"
                        + "\"mark\":{\"type\":\"strong\"}},{\"stepType\":\"replace\",\"from\":2,\"to\":3}]}",
                "{\"type\":\"update\",\"update\":\"AQEHAAQBAXQCaGkA\",\"id\":17}",
                "{\"type\":\"update\",\"documentId\":\"doc-1\",\"update\":\"AAA=\",\"id\":{\"n\":[1,2]}}",
                "{\"type\":\"awareness\",\"state\":{\"user\":{\"name\":\"Zoë\",\"color\":\"#f00\"},\"cursor\":null}}",
                "{\"type\":\"awareness\",\"state\":null}",
                "{\"type\":\"message\",\"payload\":{\"kind\":\"chat\",\"text\":\"hi 𝄞\"},\"messageType\":\"chat\","
                        + "\"to\":{\"id\":\"client-2\"}}",
                "{\"type\":\"message\",\"payload\":[1,2.5e3,-0,true,null,\"\\u00e9\\n\"]}",
                "{\"type\":\"ping\"}",
                " { \"type\" : \"ping\" , \"extra\" : [ ] } ");
    }
}
