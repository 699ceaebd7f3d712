package commons.keycloak.organizationgate;

import org.jboss.logging.Logger;
import org.keycloak.authentication.AuthenticationFlowContext;
import org.keycloak.authentication.authenticators.conditional.ConditionalAuthenticator;
import org.keycloak.models.AuthenticatorConfigModel;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.OrganizationModel;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.organization.OrganizationProvider;

/**
 * Matches when the signed-in user is a member of the Keycloak organization
 * named by the client's {@value #CLIENT_ORGANIZATION_ATTRIBUTE} attribute.
 *
 * <p>Every doubt counts as "not a member": no user, no client, no attribute,
 * an unknown or disabled organization, organizations switched off. The gate
 * that uses this condition denies access when it is negated and matches, so a
 * mistake in the provisioner or the realm shuts a tool rather than opening it
 * to the whole realm.
 */
public final class OrganizationMemberCondition implements ConditionalAuthenticator {

    /** Set by the provisioner on every tool instance's client: the alias of the owning organisation. */
    public static final String CLIENT_ORGANIZATION_ATTRIBUTE = "commons.organization";

    static final OrganizationMemberCondition SINGLETON = new OrganizationMemberCondition();

    private static final Logger LOG = Logger.getLogger(OrganizationMemberCondition.class);

    private OrganizationMemberCondition() {
    }

    @Override
    public boolean matchCondition(AuthenticationFlowContext context) {
        boolean member = isMemberOfOwningOrganization(context);
        return isNegated(context.getAuthenticatorConfig()) ? !member : member;
    }

    private static boolean isMemberOfOwningOrganization(AuthenticationFlowContext context) {
        UserModel user = context.getUser();
        ClientModel client = context.getAuthenticationSession() == null ? null : context.getAuthenticationSession().getClient();
        if (user == null || client == null) {
            return false;
        }
        String alias = client.getAttribute(CLIENT_ORGANIZATION_ATTRIBUTE);
        if (alias == null || alias.isBlank()) {
            LOG.warnf("client %s has no %s attribute; nobody may sign in to it through this flow",
                    client.getClientId(), CLIENT_ORGANIZATION_ATTRIBUTE);
            return false;
        }
        OrganizationProvider organizations = context.getSession().getProvider(OrganizationProvider.class);
        if (organizations == null || !organizations.isEnabled()) {
            return false;
        }
        OrganizationModel organization = organizations.getByAlias(alias);
        // getByAlias searches; insist on the exact alias so a near match never grants access.
        if (organization == null || !alias.equals(organization.getAlias()) || !organization.isEnabled()) {
            return false;
        }
        return organizations.isMember(organization, user);
    }

    private static boolean isNegated(AuthenticatorConfigModel config) {
        return config != null && config.getConfig() != null
                && Boolean.parseBoolean(config.getConfig().get(OrganizationMemberConditionFactory.NEGATE));
    }

    @Override
    public void action(AuthenticationFlowContext context) {
        // A condition shows no form, so there is never an action to handle.
    }

    @Override
    public boolean requiresUser() {
        return true;
    }

    @Override
    public void setRequiredActions(KeycloakSession session, RealmModel realm, UserModel user) {
        // Membership is granted by an organisation admin, never set up by the user.
    }

    @Override
    public void close() {
        // Stateless singleton.
    }
}
