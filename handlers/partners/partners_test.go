package partners

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
)

const (
	provider = `partner "P-1001" (Contoso Distribution GmbH)`
	reseller = `partner "R-2001" (Fabrikam IT Solutions GmbH)`
	direct   = `partner "P-A" (Adatum)`
)

// small is a valid registry: a direct-bill partner, an indirect provider
// and one of its resellers.
func small() *Registry {
	return &Registry{
		Version: "test-1",
		Policy:  Policy{EUEFTACountries: []string{"DE", "FR", "NO"}, MaxAdditionalResellers: 5},
		Partners: []Partner{
			{ID: "P-A", Name: "Adatum", Type: DirectBill, MPASigned: true, Country: "US"},
			{ID: "P-1001", Name: "Contoso Distribution GmbH", Type: IndirectProvider, MPASigned: true, Country: "DE"},
			{ID: "R-2001", Name: "Fabrikam IT Solutions GmbH", Type: IndirectReseller, ProviderIDs: []string{"P-1001"}, MPASigned: true, Country: "DE"},
		},
	}
}

func encode(t *testing.T, r *Registry) []byte {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func problemsOf(err error) []*Problem {
	var out []*Problem
	var walk func(error)
	walk = func(err error) {
		var p *Problem
		if errors.As(err, &p) && p == err {
			out = append(out, p)
			return
		}
		if u, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range u.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}

func TestSmallRegistryIsValid(t *testing.T) {
	r, err := Parse(encode(t, small()))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := r.Partner("R-2001")
	if !ok || !p.ResellsThrough("P-1001") || p.ResellsThrough("P-A") {
		t.Fatalf("R-2001 %+v", p)
	}
	if _, ok := r.Partner("P-ZZZ"); ok {
		t.Fatal("an unregistered partner was found")
	}
	if !r.EUEFTA("NO") || r.EUEFTA("US") || r.EUEFTA("") {
		t.Fatal("EU/EFTA membership")
	}
}

// Each row breaks one thing and must give exactly one problem naming the
// entry and the field.
func TestValidateNamesEntryAndField(t *testing.T) {
	for _, tc := range []struct {
		name         string
		mutate       func(r *Registry)
		entry, field string
		message      string
	}{
		{"empty version", func(r *Registry) { r.Version = " " }, "", "version", "must not be empty"},
		{"no EU/EFTA countries", func(r *Registry) { r.Policy.EUEFTACountries = nil }, "", "policy.eu_efta_countries", "must not be empty"},
		{"lower-case country", func(r *Registry) { r.Policy.EUEFTACountries[1] = "fr" }, "", "policy.eu_efta_countries[1]", `"fr" must be an ISO 3166-1 alpha-2 code`},
		{"country twice", func(r *Registry) { r.Policy.EUEFTACountries[2] = "DE" }, "", "policy.eu_efta_countries[2]", "duplicate of policy.eu_efta_countries[0] (DE)"},
		{"max additional resellers 0", func(r *Registry) { r.Policy.MaxAdditionalResellers = 0 }, "", "policy.max_additional_resellers", "must be 1..5 (PTN-4: up to five per transaction), not 0"},
		{"max additional resellers 6", func(r *Registry) { r.Policy.MaxAdditionalResellers = 6 }, "", "policy.max_additional_resellers", "must be 1..5 (PTN-4: up to five per transaction), not 6"},
		{"no partners", func(r *Registry) { r.Partners = nil }, "", "partners", "must not be empty"},
		{"id missing", func(r *Registry) { r.Partners[0].ID = "" }, "partners[0] (Adatum)", "id", `"" must be 1-64 letters, digits, '-' or '_'`},
		{"id with a dot", func(r *Registry) { r.Partners[0].ID = "P.A" }, `partner "P.A" (Adatum)`, "id", `"P.A" must be 1-64 letters`},
		{"reserved id", func(r *Registry) { r.Partners[0].ID = "_system" }, `partner "_system" (Adatum)`, "id", "reserved for the processor's own actors"},
		{"duplicate id", func(r *Registry) {
			r.Partners = append(r.Partners, Partner{ID: "P-A", Name: "Adatum again", Type: DirectBill, Country: "US"})
		}, `partner "P-A" (Adatum again)`, "id", "duplicate of partners[0] (Adatum)"},
		{"no name", func(r *Registry) { r.Partners[0].Name = "" }, `partner "P-A"`, "name", "must not be empty"},
		{"unknown type", func(r *Registry) { r.Partners[0].Type = "distributor" }, direct, "type", `"distributor" must be direct_bill, indirect_provider or indirect_reseller`},
		{"bad country", func(r *Registry) { r.Partners[1].Country = "DEU" }, provider, "country", `"DEU" must be an ISO 3166-1 alpha-2 code`},
		{"reseller without provider", func(r *Registry) { r.Partners[2].ProviderIDs = nil }, reseller, "provider_ids", "an indirect reseller needs at least one indirect provider"},
		{"reseller of an unknown provider", func(r *Registry) { r.Partners[2].ProviderIDs = []string{"P-9999"} }, reseller, "provider_ids[0]", `"P-9999" is not a registered partner`},
		{"reseller of a direct-bill partner", func(r *Registry) { r.Partners[2].ProviderIDs = []string{"P-1001", "P-A"} }, reseller, "provider_ids[1]", `"P-A" (direct_bill) is not an indirect provider`},
		{"provider named twice", func(r *Registry) { r.Partners[2].ProviderIDs = []string{"P-1001", "P-1001"} }, reseller, "provider_ids[1]", "duplicate of provider_ids[0] (P-1001)"},
		{"provider with providers", func(r *Registry) { r.Partners[1].ProviderIDs = []string{"P-1001"} }, provider, "provider_ids", "only an indirect reseller has indirect providers; a indirect_provider partner names none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := small()
			tc.mutate(r)
			_, err := Parse(encode(t, r))
			ps := problemsOf(err)
			if len(ps) != 1 {
				t.Fatalf("want one problem, got %d: %v", len(ps), err)
			}
			p := ps[0]
			if p.Entry != tc.entry || p.Field != tc.field || !strings.Contains(p.Message, tc.message) {
				t.Fatalf("got entry %q field %q message %q\nwant entry %q field %q message containing %q", p.Entry, p.Field, p.Message, tc.entry, tc.field, tc.message)
			}
			if !strings.HasPrefix(err.Error(), "partners: ") {
				t.Fatalf("message %q", err)
			}
		})
	}
}

// Every problem is reported, in document order.
func TestValidateReportsEveryProblemInOrder(t *testing.T) {
	r := small()
	r.Version = ""
	r.Partners[0].Type = "x"
	r.Partners[2].MPASigned = false // not a problem: only additional resellers need it (PTN-4)
	r.Partners[2].ProviderIDs = []string{"P-A"}
	_, err := Parse(encode(t, r))
	got := err.Error()
	want := "partners: version: must not be empty\n" +
		`partners: partner "P-A" (Adatum): type: "x" must be direct_bill, indirect_provider or indirect_reseller` + "\n" +
		`partners: partner "R-2001" (Fabrikam IT Solutions GmbH): provider_ids[0]: "P-A" (x) is not an indirect provider`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// The file is decoded strictly: a typo is an error, never ignored.
func TestStrictDecoding(t *testing.T) {
	good := string(encode(t, small()))
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown top-level field", strings.Replace(good, `"version"`, `"resellers":[],"version"`, 1), `unknown object member name "resellers"`},
		{"unknown partner field", strings.Replace(good, `"mpa_signed"`, `"mpa":true,"mpa_signed"`, 1), `unknown object member name "mpa"`},
		{"key in the wrong case", strings.Replace(good, `"version"`, `"Version"`, 1), `unknown object member name "Version"`},
		{"duplicate key", strings.Replace(good, `"version":"test-1"`, `"version":"test-1","version":"test-2"`, 1), `duplicate object member name "version"`},
		{"trailing data", good + `{}`, "invalid character"},
		{"wrong type", strings.Replace(good, `"max_additional_resellers":5`, `"max_additional_resellers":"5"`, 1), "max_additional_resellers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.doc == good {
				t.Fatal("the mutation did not apply")
			}
			_, err := Parse([]byte(tc.doc))
			if err == nil || !strings.HasPrefix(err.Error(), "partners: decode: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a decode error containing %q", err, tc.want)
			}
		})
	}
}

// The embedded demo registry is valid and holds the demo partners.
func TestDefaultRegistry(t *testing.T) {
	r, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Type{"P-DEMO": DirectBill, "P-1001": IndirectProvider, "R-2001": IndirectReseller, "R-2002": IndirectReseller,
		"R-2003": IndirectReseller, "P-A": DirectBill, "P-B": DirectBill}
	for id, typ := range want {
		p, ok := r.Partner(id)
		if !ok || p.Type != typ {
			t.Errorf("%s: %+v, want %s", id, p, typ)
		}
	}
	for _, id := range []string{"R-2001", "R-2002", "R-2003"} {
		if p, _ := r.Partner(id); !p.ResellsThrough("P-1001") {
			t.Errorf("%s does not resell through P-1001", id)
		}
	}
	if p, _ := r.Partner("R-2003"); p.MPASigned {
		t.Error("R-2003 is the reseller without a signed MPA")
	}
	if len(r.Policy.EUEFTACountries) != 31 || r.Policy.MaxAdditionalResellers != 5 {
		t.Errorf("policy %+v", r.Policy)
	}
	for _, cc := range []string{"DE", "FR", "GR", "IE", "CH", "NO", "IS", "LI"} {
		if !r.EUEFTA(cc) {
			t.Errorf("%s is EU/EFTA", cc)
		}
	}
	for _, cc := range []string{"GB", "US", "EL", "TR"} {
		if r.EUEFTA(cc) {
			t.Errorf("%s is not EU/EFTA", cc)
		}
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "partners.json")
	r := small()
	r.Partners[2].Country = "Germany"
	if err := os.WriteFile(path, encode(t, r), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	want := "partner registry file " + path + " is invalid:\n" +
		`partners: partner "R-2001" (Fabrikam IT Solutions GmbH): country: "Germany" must be an ISO 3166-1 alpha-2 code (2 uppercase letters)`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "partners: read ") {
		t.Fatalf("missing file: %v", err)
	}
	if err := os.WriteFile(path, encode(t, small()), 0o644); err != nil {
		t.Fatal(err)
	}
	if r, err := LoadOrDefault(path); err != nil || r.Version != "test-1" {
		t.Fatalf("LoadOrDefault(file): %v %v", r, err)
	}
	if r, err := LoadOrDefault(""); err != nil || r.Version != "2026-11-01" {
		t.Fatalf("LoadOrDefault(\"\"): %v %v", r, err)
	}
}
