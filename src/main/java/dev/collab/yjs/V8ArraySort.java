package dev.collab.yjs;

/**
 * A step-for-step model of V8's {@code Array.prototype.sort} (the TimSort of V8 11.x as shipped with Node 20:
 * natural runs, binary insertion up to the minimum run length, galloping merges with an adaptive threshold).
 *
 * <p>Why model a sort: yjs's mergeUpdates sorts its readers with a comparator that is inconsistent when two heads
 * have the same id but one is a GC and the other an Item (it answers "less" in both directions). The order it ends
 * up with then depends on exactly which comparisons V8's TimSort makes. Repeating them is the only way to pick the
 * same struct as yjs does; other JavaScript engines may pick differently. With a consistent comparator the result
 * is simply a stable sort.
 */
final class V8ArraySort {
    /** Three-way comparison by sign, as the JavaScript comparator returns it. */
    interface Comparator {
        int compare(int a, int b);
    }

    private static final int MIN_GALLOP = 7;
    private static final int MAX_PENDING_RUNS = 85;

    private final int[] a;
    private final Comparator cmp;
    private int minGallop = MIN_GALLOP;
    private int[] tmp = new int[32];
    private final int[] runBase = new int[MAX_PENDING_RUNS];
    private final int[] runLength = new int[MAX_PENDING_RUNS];
    private int runs;

    private V8ArraySort(int[] a, Comparator cmp) {
        this.a = a;
        this.cmp = cmp;
    }

    /** Sorts {@code a[0, n)} in place the way V8 would. */
    static void sort(int[] a, int n, Comparator cmp) {
        if (n < 2) {
            return;
        }
        new V8ArraySort(a, cmp).timSort(n);
    }

    private void timSort(int n) {
        int low = 0;
        int remaining = n;
        int minRun = minRunLength(n);
        while (remaining != 0) {
            int run = countAndMakeRun(low, low + remaining);
            if (run < minRun) {
                int forced = Math.min(minRun, remaining);
                binaryInsertionSort(low, low + run, low + forced);
                run = forced;
            }
            runBase[runs] = low;
            runLength[runs++] = run;
            mergeCollapse();
            low += run;
            remaining -= run;
        }
        while (runs > 1) {
            int i = runs - 2;
            if (i > 0 && runLength[i - 1] < runLength[i + 1]) {
                i--;
            }
            mergeAt(i);
        }
    }

    private static int minRunLength(int n) {
        int r = 0;
        while (n >= 64) {
            r |= n & 1;
            n >>= 1;
        }
        return n + r;
    }

    /** [low, start) is sorted; inserts the elements of [start, high) one by one, after equal ones. */
    private void binaryInsertionSort(int low, int start, int high) {
        if (start == low) {
            start++;
        }
        for (; start < high; start++) {
            int pivot = a[start];
            int left = low;
            int right = start;
            while (left < right) {
                int mid = left + ((right - left) >> 1);
                if (cmp.compare(pivot, a[mid]) < 0) {
                    right = mid;
                } else {
                    left = mid + 1;
                }
            }
            System.arraycopy(a, left, a, left + 1, start - left);
            a[left] = pivot;
        }
    }

    /** Length of the ascending (or strictly descending, then reversed) run starting at lowArg. */
    private int countAndMakeRun(int lowArg, int high) {
        int low = lowArg + 1;
        if (low == high) {
            return 1;
        }
        int run = 2;
        boolean descending = cmp.compare(a[low], a[low - 1]) < 0;
        int previous = a[low];
        for (int i = low + 1; i < high; i++) {
            int order = cmp.compare(a[i], previous);
            if (descending ? order >= 0 : order < 0) {
                break;
            }
            previous = a[i];
            run++;
        }
        if (descending) {
            for (int lo = lowArg, hi = lowArg + run - 1; lo < hi; lo++, hi--) {
                int t = a[lo];
                a[lo] = a[hi];
                a[hi] = t;
            }
        }
        return run;
    }

    private boolean invariantHolds(int n) {
        return n < 2 || runLength[n - 2] > runLength[n - 1] + runLength[n];
    }

    private void mergeCollapse() {
        while (runs > 1) {
            int n = runs - 2;
            if (!invariantHolds(n + 1) || !invariantHolds(n)) {
                if (runLength[n - 1] < runLength[n + 1]) {
                    n--;
                }
                mergeAt(n);
            } else if (runLength[n] <= runLength[n + 1]) {
                mergeAt(n);
            } else {
                break;
            }
        }
    }

    private void mergeAt(int i) {
        int baseA = runBase[i];
        int lengthA = runLength[i];
        int baseB = runBase[i + 1];
        int lengthB = runLength[i + 1];
        runLength[i] = lengthA + lengthB;
        if (i == runs - 3) {
            runBase[i + 1] = runBase[i + 2];
            runLength[i + 1] = runLength[i + 2];
        }
        runs--;
        int k = gallopRight(a, a[baseB], baseA, lengthA, 0);
        baseA += k;
        lengthA -= k;
        if (lengthA == 0) {
            return;
        }
        lengthB = gallopLeft(a, a[baseA + lengthA - 1], baseB, lengthB, lengthB - 1);
        if (lengthB == 0) {
            return;
        }
        if (lengthA <= lengthB) {
            mergeLow(baseA, lengthA, baseB, lengthB);
        } else {
            mergeHigh(baseA, lengthA, baseB, lengthB);
        }
    }

    /** Offset in [0, length] where key goes in arr[base, base+length), before elements equal to it. */
    private int gallopLeft(int[] arr, int key, int base, int length, int hint) {
        int lastOfs = 0;
        int ofs = 1;
        if (cmp.compare(arr[base + hint], key) < 0) {
            int maxOfs = length - hint;
            while (ofs < maxOfs && cmp.compare(arr[base + hint + ofs], key) < 0) {
                lastOfs = ofs;
                ofs = grow(ofs, maxOfs);
            }
            ofs = Math.min(ofs, maxOfs);
            lastOfs += hint;
            ofs += hint;
        } else {
            int maxOfs = hint + 1;
            while (ofs < maxOfs && cmp.compare(arr[base + hint - ofs], key) >= 0) {
                lastOfs = ofs;
                ofs = grow(ofs, maxOfs);
            }
            ofs = Math.min(ofs, maxOfs);
            int t = lastOfs;
            lastOfs = hint - ofs;
            ofs = hint - t;
        }
        lastOfs++;
        while (lastOfs < ofs) {
            int m = lastOfs + ((ofs - lastOfs) >> 1);
            if (cmp.compare(arr[base + m], key) < 0) {
                lastOfs = m + 1;
            } else {
                ofs = m;
            }
        }
        return ofs;
    }

    /** Offset in [0, length] where key goes in arr[base, base+length), after elements equal to it. */
    private int gallopRight(int[] arr, int key, int base, int length, int hint) {
        int lastOfs = 0;
        int ofs = 1;
        if (cmp.compare(key, arr[base + hint]) < 0) {
            int maxOfs = hint + 1;
            while (ofs < maxOfs && cmp.compare(key, arr[base + hint - ofs]) < 0) {
                lastOfs = ofs;
                ofs = grow(ofs, maxOfs);
            }
            ofs = Math.min(ofs, maxOfs);
            int t = lastOfs;
            lastOfs = hint - ofs;
            ofs = hint - t;
        } else {
            int maxOfs = length - hint;
            while (ofs < maxOfs && cmp.compare(key, arr[base + hint + ofs]) >= 0) {
                lastOfs = ofs;
                ofs = grow(ofs, maxOfs);
            }
            ofs = Math.min(ofs, maxOfs);
            lastOfs += hint;
            ofs += hint;
        }
        lastOfs++;
        while (lastOfs < ofs) {
            int m = lastOfs + ((ofs - lastOfs) >> 1);
            if (cmp.compare(key, arr[base + m]) < 0) {
                ofs = m;
            } else {
                lastOfs = m + 1;
            }
        }
        return ofs;
    }

    private static int grow(int ofs, int maxOfs) {
        int next = (ofs << 1) + 1;
        return next <= 0 ? maxOfs : next;
    }

    private int[] temp(int n) {
        if (tmp.length < n) {
            tmp = new int[n];
        }
        return tmp;
    }

    /** Merges run A (the shorter, copied out) with run B, front to back. */
    private void mergeLow(int baseA, int lengthA, int baseB, int lengthB) {
        int[] t = temp(lengthA);
        System.arraycopy(a, baseA, t, 0, lengthA);
        int dest = baseA;
        int cursorT = 0;
        int cursorB = baseB;
        a[dest++] = a[cursorB++];
        merge:
        {
            if (--lengthB == 0) {
                break merge;
            }
            if (lengthA == 1) {
                copyBThenLastA(t, dest, cursorT, cursorB, lengthB);
                return;
            }
            int gallop = minGallop;
            while (true) {
                int winsA = 0;
                int winsB = 0;
                while (true) {
                    if (cmp.compare(a[cursorB], t[cursorT]) < 0) {
                        a[dest++] = a[cursorB++];
                        winsB++;
                        winsA = 0;
                        if (--lengthB == 0) {
                            break merge;
                        }
                        if (winsB >= gallop) {
                            break;
                        }
                    } else {
                        a[dest++] = t[cursorT++];
                        winsA++;
                        winsB = 0;
                        if (--lengthA == 1) {
                            copyBThenLastA(t, dest, cursorT, cursorB, lengthB);
                            return;
                        }
                        if (winsA >= gallop) {
                            break;
                        }
                    }
                }
                gallop++;
                boolean first = true;
                while (winsA >= MIN_GALLOP || winsB >= MIN_GALLOP || first) {
                    first = false;
                    gallop = Math.max(1, gallop - 1);
                    minGallop = gallop;
                    winsA = gallopRight(t, a[cursorB], cursorT, lengthA, 0);
                    if (winsA > 0) {
                        System.arraycopy(t, cursorT, a, dest, winsA);
                        dest += winsA;
                        cursorT += winsA;
                        lengthA -= winsA;
                        if (lengthA == 1) {
                            copyBThenLastA(t, dest, cursorT, cursorB, lengthB);
                            return;
                        }
                        if (lengthA == 0) {
                            break merge; // only reachable with an inconsistent comparator
                        }
                    }
                    a[dest++] = a[cursorB++];
                    if (--lengthB == 0) {
                        break merge;
                    }
                    winsB = gallopLeft(a, t[cursorT], cursorB, lengthB, 0);
                    if (winsB > 0) {
                        System.arraycopy(a, cursorB, a, dest, winsB);
                        dest += winsB;
                        cursorB += winsB;
                        lengthB -= winsB;
                        if (lengthB == 0) {
                            break merge;
                        }
                    }
                    a[dest++] = t[cursorT++];
                    if (--lengthA == 1) {
                        copyBThenLastA(t, dest, cursorT, cursorB, lengthB);
                        return;
                    }
                }
                gallop++;
                minGallop = gallop;
            }
        }
        if (lengthA > 0) {
            System.arraycopy(t, cursorT, a, dest, lengthA);
        }
    }

    private void copyBThenLastA(int[] t, int dest, int cursorT, int cursorB, int lengthB) {
        System.arraycopy(a, cursorB, a, dest, lengthB);
        a[dest + lengthB] = t[cursorT];
    }

    /** Merges run A with run B (the shorter, copied out), back to front. */
    private void mergeHigh(int baseA, int lengthA, int baseB, int lengthB) {
        int[] t = temp(lengthB);
        System.arraycopy(a, baseB, t, 0, lengthB);
        int dest = baseB + lengthB - 1;
        int cursorT = lengthB - 1;
        int cursorA = baseA + lengthA - 1;
        a[dest--] = a[cursorA--];
        merge:
        {
            if (--lengthA == 0) {
                break merge;
            }
            if (lengthB == 1) {
                copyAThenFirstB(t, dest, cursorT, cursorA, lengthA);
                return;
            }
            int gallop = minGallop;
            while (true) {
                int winsA = 0;
                int winsB = 0;
                while (true) {
                    if (cmp.compare(t[cursorT], a[cursorA]) < 0) {
                        a[dest--] = a[cursorA--];
                        winsA++;
                        winsB = 0;
                        if (--lengthA == 0) {
                            break merge;
                        }
                        if (winsA >= gallop) {
                            break;
                        }
                    } else {
                        a[dest--] = t[cursorT--];
                        winsB++;
                        winsA = 0;
                        if (--lengthB == 1) {
                            copyAThenFirstB(t, dest, cursorT, cursorA, lengthA);
                            return;
                        }
                        if (winsB >= gallop) {
                            break;
                        }
                    }
                }
                gallop++;
                boolean first = true;
                while (winsA >= MIN_GALLOP || winsB >= MIN_GALLOP || first) {
                    first = false;
                    gallop = Math.max(1, gallop - 1);
                    minGallop = gallop;
                    winsA = lengthA - gallopRight(a, t[cursorT], baseA, lengthA, lengthA - 1);
                    if (winsA > 0) {
                        dest -= winsA;
                        cursorA -= winsA;
                        System.arraycopy(a, cursorA + 1, a, dest + 1, winsA);
                        lengthA -= winsA;
                        if (lengthA == 0) {
                            break merge;
                        }
                    }
                    a[dest--] = t[cursorT--];
                    if (--lengthB == 1) {
                        copyAThenFirstB(t, dest, cursorT, cursorA, lengthA);
                        return;
                    }
                    winsB = lengthB - gallopLeft(t, a[cursorA], 0, lengthB, lengthB - 1);
                    if (winsB > 0) {
                        dest -= winsB;
                        cursorT -= winsB;
                        System.arraycopy(t, cursorT + 1, a, dest + 1, winsB);
                        lengthB -= winsB;
                        if (lengthB == 1) {
                            copyAThenFirstB(t, dest, cursorT, cursorA, lengthA);
                            return;
                        }
                        if (lengthB == 0) {
                            break merge; // only reachable with an inconsistent comparator
                        }
                    }
                    a[dest--] = a[cursorA--];
                    if (--lengthA == 0) {
                        break merge;
                    }
                }
                gallop++;
                minGallop = gallop;
            }
        }
        if (lengthB > 0) {
            System.arraycopy(t, 0, a, dest - (lengthB - 1), lengthB);
        }
    }

    private void copyAThenFirstB(int[] t, int dest, int cursorT, int cursorA, int lengthA) {
        dest -= lengthA;
        cursorA -= lengthA;
        System.arraycopy(a, cursorA + 1, a, dest + 1, lengthA);
        a[dest] = t[cursorT];
    }
}
