package identity

import (
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestAttributesIgnoreOrder(t *testing.T) {
	a := pcommon.NewMap()
	a.PutStr("x", "1")
	a.PutInt("y", 2)
	a.PutBool("z", true)
	b := pcommon.NewMap()
	b.PutBool("z", true)
	b.PutInt("y", 2)
	b.PutStr("x", "1")
	if Attributes(a) != Attributes(b) {
		t.Error("the same attributes in another order hash differently")
	}
}

func TestAttributesTellValuesAndTypesApart(t *testing.T) {
	cases := []func(m pcommon.Map){
		func(pcommon.Map) {},
		func(m pcommon.Map) { m.PutStr("k", "1") },
		func(m pcommon.Map) { m.PutInt("k", 1) },
		func(m pcommon.Map) { m.PutDouble("k", 1) },
		func(m pcommon.Map) { m.PutBool("k", true) },
		func(m pcommon.Map) { m.PutStr("k", "2") },
		func(m pcommon.Map) { m.PutStr("k2", "1") },
		func(m pcommon.Map) { m.PutStr("k", "1"); m.PutStr("j", "1") },
		// A key/value boundary shift must not collide.
		func(m pcommon.Map) { m.PutStr("ab", "c") },
		func(m pcommon.Map) { m.PutStr("a", "bc") },
		func(m pcommon.Map) { m.PutEmptySlice("k").AppendEmpty().SetStr("1") },
		func(m pcommon.Map) { m.PutEmptyMap("k").PutStr("1", "") },
		func(m pcommon.Map) { m.PutEmptyBytes("k").FromRaw([]byte("1")) },
	}
	seen := map[uint64]int{}
	for i, fill := range cases {
		m := pcommon.NewMap()
		fill(m)
		h := Attributes(m)
		if j, dup := seen[h]; dup {
			t.Errorf("cases %d and %d collide", j, i)
		}
		seen[h] = i
	}
}

func TestStreamSeparatesItsParts(t *testing.T) {
	seen := map[uint64]string{}
	for r := range 30 {
		for m := range 30 {
			for p := range 30 {
				h := Stream(uint64(r), String(fmt.Sprint("metric", m)), uint64(p))
				key := fmt.Sprint(r, m, p)
				if other, dup := seen[h]; dup {
					t.Fatalf("%s and %s collide", key, other)
				}
				seen[h] = key
			}
		}
	}
}

func TestHashingAllocatesNothing(t *testing.T) {
	m := pcommon.NewMap()
	for i := range 10 {
		m.PutStr(fmt.Sprint("key", i), fmt.Sprint("value", i))
	}
	m.PutInt("n", 1)
	m.PutDouble("d", 1.5)
	if a := testing.AllocsPerRun(100, func() { _ = Stream(Attributes(m), String("go.goroutine.count"), Attributes(m)) }); a != 0 {
		t.Errorf("%v allocations per stream hash", a)
	}
}

func BenchmarkAttributes(b *testing.B) {
	for _, n := range []int{2, 10} {
		m := pcommon.NewMap()
		for i := range n {
			m.PutStr(fmt.Sprint("attribute.key.", i), fmt.Sprint("value-", i))
		}
		b.Run(fmt.Sprint(n, "attrs"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = Attributes(m)
			}
		})
	}
}
