package partners

import (
	"fmt"
	"github.com/cspreseller/csp-processor/handlers/internal/problems"
	"regexp"
	"strings"

	"github.com/cspreseller/csp-processor/messages"
)

// MaxAdditionalResellers is Partner Center's limit of additional resellers
// per transaction ("up to five"). The registry's
// policy.max_additional_resellers may lower it, never raise it.
const MaxAdditionalResellers = 5

var countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)

// Problem is one thing wrong with a registry. Validate (and so Parse, Load
// and Default) return every problem found, joined with errors.Join in
// document order: version and policy first, then the partners in file
// order. Use errors.As to reach one.
type Problem = problems.Problem

// problemList gathers a validation's problems.
type problemList = problems.List

// Validate checks the whole registry and returns every problem (see
// Problem), or nil:
//   - version is not empty;
//   - policy.eu_efta_countries is not empty, each an ISO 3166-1 alpha-2
//     code, none twice; policy.max_additional_resellers is 1..5;
//   - partners is not empty; each partner's id is a subject token (1-64
//     letters, digits, '-' or '_'), does not start with '_' (reserved for
//     the processor's own actors, such as _system) and is unique; name is
//     not empty; type is direct_bill, indirect_provider or
//     indirect_reseller; country is an ISO 3166-1 alpha-2 code;
//   - an indirect reseller names at least one provider in provider_ids,
//     each a registered indirect provider, none twice; other types name
//     none.
func (r *Registry) Validate() error {
	ps := &problemList{Source: "partners"}
	if strings.TrimSpace(r.Version) == "" {
		ps.Add("version", "must not be empty")
	}
	r.Policy.validate(ps)
	if len(r.Partners) == 0 {
		ps.Add("partners", "must not be empty")
	}
	firstByID := make(map[string]int, len(r.Partners))
	for i := range r.Partners {
		if id := r.Partners[i].ID; id != "" {
			if _, dup := firstByID[id]; !dup {
				firstByID[id] = i
			}
		}
	}
	for i := range r.Partners {
		p := &r.Partners[i]
		ps.Entry = partnerEntry(i, p)
		switch j := firstByID[p.ID]; {
		case !messages.ValidToken(p.ID):
			ps.Add("id", "%q must be 1-64 letters, digits, '-' or '_'", p.ID)
		case strings.HasPrefix(p.ID, "_"):
			ps.Add("id", "%q: IDs starting with '_' are reserved for the processor's own actors", p.ID)
		case j != i:
			ps.Add("id", "duplicate of partners[%d] (%s)", j, r.Partners[j].Name)
		}
		if strings.TrimSpace(p.Name) == "" {
			ps.Add("name", "must not be empty")
		}
		switch p.Type {
		case DirectBill, IndirectProvider, IndirectReseller:
		default:
			ps.Add("type", "%q must be direct_bill, indirect_provider or indirect_reseller", p.Type)
		}
		if !countryPattern.MatchString(p.Country) {
			ps.Add("country", "%q must be an ISO 3166-1 alpha-2 code (2 uppercase letters)", p.Country)
		}
		r.validateProviders(ps, p, firstByID)
	}
	return ps.Err()
}

func (p *Policy) validate(ps *problemList) {
	if len(p.EUEFTACountries) == 0 {
		ps.Add("policy.eu_efta_countries", "must not be empty (PTN-4: the EU and EFTA billing countries)")
	}
	ps.Countries("policy.eu_efta_countries", p.EUEFTACountries)
	if n := p.MaxAdditionalResellers; n < 1 || n > MaxAdditionalResellers {
		ps.Add("policy.max_additional_resellers", "must be 1..%d (PTN-4: up to five per transaction), not %d", MaxAdditionalResellers, n)
	}
}

// validateProviders checks an indirect reseller's providers (PTN-2: it
// must have one to go through).
func (r *Registry) validateProviders(ps *problemList, p *Partner, firstByID map[string]int) {
	if p.Type != IndirectReseller {
		if len(p.ProviderIDs) > 0 {
			ps.Add("provider_ids", "only an indirect reseller has indirect providers; a %s partner names none", p.Type)
		}
		return
	}
	if len(p.ProviderIDs) == 0 {
		ps.Add("provider_ids", "an indirect reseller needs at least one indirect provider")
	}
	seen := map[string]int{}
	for i, id := range p.ProviderIDs {
		field := fmt.Sprintf("provider_ids[%d]", i)
		if k, dup := seen[id]; dup {
			ps.Add(field, "duplicate of provider_ids[%d] (%s)", k, id)
			continue
		}
		seen[id] = i
		if j, known := firstByID[id]; !known {
			ps.Add(field, "%q is not a registered partner", id)
		} else if r.Partners[j].Type != IndirectProvider {
			ps.Add(field, "%q (%s) is not an indirect provider", id, r.Partners[j].Type)
		}
	}
}

// partnerEntry names a partner in a Problem: by ID and name, by position
// when the ID is missing.
func partnerEntry(i int, p *Partner) string {
	var who string
	if p.ID != "" {
		who = fmt.Sprintf("partner %q", p.ID)
	} else {
		who = fmt.Sprintf("partners[%d]", i)
	}
	if strings.TrimSpace(p.Name) != "" {
		who += " (" + p.Name + ")"
	}
	return who
}
