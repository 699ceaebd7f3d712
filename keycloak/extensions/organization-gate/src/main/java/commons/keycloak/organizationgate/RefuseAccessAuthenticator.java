package commons.keycloak.organizationgate;

import jakarta.ws.rs.core.Response;
import org.keycloak.authentication.AuthenticationFlowContext;
import org.keycloak.authentication.Authenticator;
import org.keycloak.events.Errors;
import org.keycloak.models.AuthenticatorConfigModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.services.messages.Messages;

/**
 * Ends the sign-in on an error page, like Keycloak's "Deny access", but
 * without counting a failed login.
 *
 * <p>"Deny access" reports a flow failure, and Keycloak's brute-force
 * protection counts every flow failure against the user: two refusals within
 * a second (a double click on a tool's link) lock the person out of password
 * sign-in everywhere, the portal included, with "invalid username or
 * password" as the only explanation. Being refused by a tool is not a guessed
 * password, so this authenticator answers with a challenge (the error page)
 * instead. The sign-in cannot go on: every answer to that page is refused
 * again, and a restart runs the flow, and this refusal, from the top.
 */
public final class RefuseAccessAuthenticator implements Authenticator {

    static final RefuseAccessAuthenticator SINGLETON = new RefuseAccessAuthenticator();

    private RefuseAccessAuthenticator() {
    }

    @Override
    public void authenticate(AuthenticationFlowContext context) {
        refuse(context);
    }

    @Override
    public void action(AuthenticationFlowContext context) {
        refuse(context);
    }

    private static void refuse(AuthenticationFlowContext context) {
        AuthenticatorConfigModel config = context.getAuthenticatorConfig();
        String message = config == null || config.getConfig() == null
                ? null
                : config.getConfig().get(RefuseAccessAuthenticatorFactory.MESSAGE);
        // Still an audit trail: a LOGIN_ERROR event with the user and the client.
        context.getEvent().error(Errors.ACCESS_DENIED);
        Response page = context.form()
                .setError(message == null || message.isBlank() ? Messages.ACCESS_DENIED : message)
                .createErrorPage(Response.Status.FORBIDDEN);
        context.forceChallenge(page);
    }

    @Override
    public boolean requiresUser() {
        return false;
    }

    @Override
    public boolean configuredFor(KeycloakSession session, RealmModel realm, UserModel user) {
        return true;
    }

    @Override
    public void setRequiredActions(KeycloakSession session, RealmModel realm, UserModel user) {
        // Nothing the user could set up to get past a refusal.
    }

    @Override
    public void close() {
        // Stateless singleton.
    }
}
