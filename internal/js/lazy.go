package js

import (
	"sort"

	"github.com/grafana/sobek"
)

// lazyObject is a module object whose members are made on first use: a
// VU pays only for the functions its script touches (most scripts use
// two or three of k6/http's), which keeps thousands of VUs small and
// quick to start.
type lazyObject struct {
	rt     *sobek.Runtime
	make   map[string]any // Go values, wrapped on first use
	made   map[string]sobek.Value
	extras map[string]sobek.Value // set by the script
}

func (v *VU) lazy(members map[string]any) *sobek.Object {
	return v.rt.NewDynamicObject(&lazyObject{rt: v.rt, make: members, made: make(map[string]sobek.Value, 2)})
}

func (o *lazyObject) Get(k string) sobek.Value {
	if x, ok := o.made[k]; ok {
		return x
	}
	if x, ok := o.extras[k]; ok {
		return x
	}
	mk, ok := o.make[k]
	if !ok {
		return nil
	}
	x := o.rt.ToValue(mk)
	o.made[k] = x
	return x
}

func (o *lazyObject) Set(k string, val sobek.Value) bool {
	if o.extras == nil {
		o.extras = map[string]sobek.Value{}
	}
	o.extras[k] = val
	return true
}

func (o *lazyObject) Has(k string) bool {
	_, ok := o.make[k]
	_, ok2 := o.extras[k]
	return ok || ok2
}

func (o *lazyObject) Delete(k string) bool { delete(o.extras, k); return true }

func (o *lazyObject) Keys() []string {
	keys := make([]string, 0, len(o.make)+len(o.extras))
	for k := range o.make {
		keys = append(keys, k)
	}
	for k := range o.extras {
		if _, ok := o.make[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// envObject is __ENV: a view of the environment map shared by the VUs;
// a VU's writes stay in that VU.
type envObject struct {
	rt   *sobek.Runtime
	base map[string]string
	over map[string]sobek.Value
}

func (e *envObject) Get(k string) sobek.Value {
	if x, ok := e.over[k]; ok {
		return x
	}
	if x, ok := e.base[k]; ok {
		return e.rt.ToValue(x)
	}
	return nil
}

func (e *envObject) Set(k string, val sobek.Value) bool {
	if e.over == nil {
		e.over = map[string]sobek.Value{}
	}
	e.over[k] = val
	return true
}

func (e *envObject) Has(k string) bool {
	_, ok := e.over[k]
	_, ok2 := e.base[k]
	return ok || ok2
}

func (e *envObject) Delete(k string) bool { delete(e.over, k); return true }

func (e *envObject) Keys() []string {
	keys := make([]string, 0, len(e.base))
	for k := range e.base {
		keys = append(keys, k)
	}
	for k := range e.over {
		if _, ok := e.base[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
