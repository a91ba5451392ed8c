package check

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// grant is what the token endpoint answered to the client credentials
// request.
type grant struct {
	exchange  *Response
	token     string
	tokenType string
	expiresIn int64 // seconds; 0 when absent
	hasExpiry bool
	// problem says why there is no token, when there is none.
	problem string
}

// fetchToken asks the token endpoint for an access token with the client
// credentials grant (RFC 6749 §4.4), the one App Gallery applications must
// offer, and keeps it as the session's token unless Config.Token is set.
func (s *session) fetchToken(ctx context.Context) {
	t := &T{s: s, ctx: ctx, c: check{suite: "gallery", name: "token"}, secret: true}
	form := url.Values{"grant_type": {"client_credentials"}}
	if s.cfg.Scope != "" {
		form.Set("scope", s.cfg.Scope)
	}
	headers := []header{{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}, {"Authorization", ""}}
	if s.cfg.ClientAuth == "basic" {
		// RFC 6749 §2.3.1: both are form-encoded before Basic encoding.
		cred := url.QueryEscape(s.cfg.ClientID) + ":" + url.QueryEscape(s.cfg.ClientSecret)
		headers[2] = header{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(cred))}
	} else {
		form.Set("client_id", s.cfg.ClientID)
		form.Set("client_secret", s.cfg.ClientSecret)
	}
	r, err := t.post(s.cfg.TokenURL, form.Encode(), headers...)
	if err != nil {
		s.grant.problem = err.Error()
		return
	}
	s.grant.exchange = r
	if r.Status < 200 || r.Status > 299 {
		e, _ := get(r.JSON(), "error").(string)
		d, _ := get(r.JSON(), "error_description").(string)
		s.grant.problem = fmt.Sprintf("POST %s answered %d", s.cfg.TokenURL, r.Status)
		if e != "" {
			s.grant.problem += fmt.Sprintf(" (%s: %s)", e, d)
		}
		return
	}
	var body struct {
		AccessToken string          `json:"access_token"`
		TokenType   string          `json:"token_type"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		s.grant.problem = fmt.Sprintf("the token endpoint's answer is not a JSON object (RFC 6749 §5.1): %v", err)
		return
	}
	if body.AccessToken == "" {
		s.grant.problem = "the token endpoint's answer has no access_token (RFC 6749 §5.1)"
		return
	}
	s.grant.token, s.grant.tokenType = body.AccessToken, body.TokenType
	if len(body.ExpiresIn) > 0 {
		// RFC 6749 §5.1 says a number; some servers send a string.
		raw := strings.Trim(string(body.ExpiresIn), `"`)
		if _, err := fmt.Sscan(raw, &s.grant.expiresIn); err == nil {
			s.grant.hasExpiry = true
		}
	}
	if s.cfg.Token == "" {
		s.token = body.AccessToken
	}
}

// post sends a form to an absolute URL outside the SCIM base URL (the
// token endpoint), through T's accounting.
func (t *T) post(target, form string, headers ...header) (*Response, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("the token URL %q is not an http:// or https:// URL", target)
	}
	return t.send("POST", u, form, headers...)
}
